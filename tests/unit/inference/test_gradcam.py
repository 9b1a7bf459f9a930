"""Grad-CAM on a generated task where the answer is known: the class is the colour of a square in one quadrant.

A tiny CNN, nested as the model's base exactly like the app's models, learns red / green / blue squares at 32 px.
Its heatmap for a class must then sit on the square of that colour, wherever that square is.
"""

import numpy as np
import pytest

from tlcore.inference.gradcam import Explainer, GradCamUnavailable, colourise, overlay, quadrant_shares

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")

SIZE = 32
COLOURS = {"red": (230, 40, 40), "green": (40, 220, 40), "blue": (50, 60, 235)}
QUADRANT_ORIGINS = [(2, 2), (2, 18), (18, 2), (18, 18)]  # (row, column) of a 12 px square in each quadrant


def scene(squares: dict[int, tuple[int, int, int]], rng) -> np.ndarray:
    """Dark noise with a coloured 12 px square per {quadrant: colour}."""
    image = rng.integers(0, 60, (SIZE, SIZE, 3)).astype(np.uint8)
    for quadrant, colour in squares.items():
        row, column = QUADRANT_ORIGINS[quadrant]
        jitter = rng.integers(0, 3, 2)
        image[row + jitter[0]:row + jitter[0] + 12, column + jitter[1]:column + jitter[1] + 12] = colour
    return image


def coloured_squares_task(classes: list[str], count: int, seed: int):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(classes), count)
    quadrants = rng.integers(0, 4, count)
    images = np.stack([scene({q: COLOURS[classes[label]]}, rng) for label, q in zip(labels, quadrants)])
    return images, labels, quadrants


def train_nested_cnn(classes: list[str], seed: int = 0, count: int = 384, in_inference_mode: bool = False):
    """input → ImagePreprocess → base (a nested functional CNN) → pooling → dropout → head, as tlcore.modeling.model
    builds; `in_inference_mode` wraps the base as a pretrained one is (InferenceModeBase)."""
    import keras

    from tlcore.layers.inference_mode import InferenceModeBase
    from tlcore.layers.preprocess import ImagePreprocess
    from tlcore.modeling.model import head_units

    keras.utils.set_random_seed(seed)
    base_input = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(base_input)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="last_conv")(x)
    base = keras.Model(base_input, x, name="base")
    inputs = keras.Input((SIZE, SIZE, 3), name="image")
    x = ImagePreprocess("tf", name="preprocess")(inputs)
    x = InferenceModeBase(base, name="base")(x) if in_inference_mode else base(x, training=False)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dropout(0.1, name="dropout")(x)
    units = head_units(len(classes))
    outputs = keras.layers.Dense(units, activation="sigmoid" if units == 1 else "softmax", name="head")(x)
    model = keras.Model(inputs, outputs)
    images, labels, _ = coloured_squares_task(classes, count, seed)
    model.compile(keras.optimizers.Adam(3e-3), "binary_crossentropy" if units == 1 else
                  "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(images.astype("float32"), labels.astype("float32"), epochs=6, batch_size=32, verbose=0)
    return model


@pytest.fixture(scope="module")
def three_colours():
    return train_nested_cnn(["red", "green", "blue"])


def test_the_heatmap_of_the_predicted_class_sits_on_the_square(three_colours):
    images, labels, quadrants = coloured_squares_task(["red", "green", "blue"], 24, seed=99)
    explainer = Explainer(three_colours)

    explained = [explainer.explain(image) for image in images]

    assert explainer.layer_name == "base/last_conv"
    assert [cam.class_index for cam in explained] == labels.tolist()  # the task is learnt
    shares = np.array([quadrant_shares(cam.heatmap)[q] for cam, q in zip(explained, quadrants)])
    print("square-quadrant shares", shares.round(2))
    assert np.median(shares) > 0.6, shares.round(2)  # a quarter would be no localisation at all
    hottest = [quadrant_shares(cam.heatmap).argmax() for cam in explained]
    assert np.mean(np.array(hottest) == quadrants) >= 0.9
    assert explained[0].heatmap.shape == (SIZE, SIZE)
    assert explained[0].heatmap.max() == pytest.approx(1.0, abs=0.01) and explained[0].heatmap.min() >= 0.0


def test_a_base_in_inference_mode_is_explained_through_its_wrapper():
    model = train_nested_cnn(["red", "green", "blue"], seed=2, in_inference_mode=True)
    images, labels, quadrants = coloured_squares_task(["red", "green", "blue"], 24, seed=98)
    explainer = Explainer(model)

    explained = [explainer.explain(image) for image in images]

    assert type(model.get_layer("base")).__name__ == "InferenceModeBase"
    assert explainer.layer_name == "base/last_conv"
    assert np.mean([cam.class_index == label for cam, label in zip(explained, labels)]) >= 0.9
    hottest = [quadrant_shares(cam.heatmap).argmax() for cam in explained]
    assert np.mean(np.array(hottest) == quadrants) >= 0.9


def test_a_chosen_class_highlights_its_own_square(three_colours):
    rng = np.random.default_rng(7)
    explainer = Explainer(three_colours)
    for red_quadrant, blue_quadrant in [(0, 3), (1, 2), (2, 1), (3, 0)]:
        image = scene({red_quadrant: COLOURS["red"], blue_quadrant: COLOURS["blue"]}, rng)

        red, blue = explainer.explain(image, class_index=0), explainer.explain(image, class_index=2)

        assert (red.class_index, blue.class_index) == (0, 2)
        assert quadrant_shares(red.heatmap).argmax() == red_quadrant
        assert quadrant_shares(blue.heatmap).argmax() == blue_quadrant


def test_a_single_sigmoid_unit_explains_both_classes():
    model = train_nested_cnn(["red", "green"], seed=1, count=256)
    explainer = Explainer(model)
    image = scene({1: COLOURS["red"], 2: COLOURS["green"]}, np.random.default_rng(3))

    red, green = explainer.explain(image, class_index=0), explainer.explain(image, class_index=1)

    assert quadrant_shares(red.heatmap).argmax() == 1
    assert quadrant_shares(green.heatmap).argmax() == 2
    assert red.probability + green.probability == pytest.approx(1.0, abs=1e-5)


def test_the_app_model_is_explained_at_its_last_map_wide_enough_to_localise(trained_run_master):
    from tlcore.config.training import TrainConfig
    from tlcore.inference.gradcam import target_layer
    from tlcore.layers.loading import load_model
    from tlcore.modeling.model import build_model

    explainer = Explainer(load_model(trained_run_master / "model.keras"))
    cam = explainer.explain(np.full((32, 32, 3), 200, np.uint8), class_index=1)
    at_160 = build_model(TrainConfig(dataset="x", backbone="MobileNetV2", image_size=160, weights="random"), 3,
                         load_weights=False)

    # At 32 px MobileNetV2 ends in a 1×1 map, which cannot localise: the deepest map at least 7×7 is explained
    assert explainer.layer_name == "base/block_3_expand_relu" and cam.map_size == (8, 8)
    assert cam.heatmap.shape == (32, 32) and cam.class_index == 1
    assert target_layer(at_160)[1].name == "block_13_expand_relu"  # 10×10: the base's own 5×5 output is too coarse


def test_a_model_without_feature_maps_is_refused_with_a_message():
    import keras

    inputs = keras.Input((8,))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(inputs))

    with pytest.raises(GradCamUnavailable, match="no convolutional feature map"):
        Explainer(model)


def test_a_class_outside_the_model_is_refused(three_colours):
    with pytest.raises(ValueError, match=r"Class index 5 is outside 0\.\.2"):
        Explainer(three_colours).explain(np.zeros((SIZE, SIZE, 3), np.uint8), class_index=5)


def test_overlay_and_colours():
    heatmap = np.zeros((4, 4))
    heatmap[0, 0] = 1.0

    colours = colourise(heatmap)
    picture = overlay(np.full((4, 4, 3), 128, np.uint8), heatmap, width=64)

    assert colours.shape == (4, 4, 3) and colours.dtype == np.uint8
    assert tuple(colours[0, 0]) == (200, 0, 0) and tuple(colours[3, 3]) == (0, 0, 96)
    assert picture.size == (64, 64)
    assert picture.getpixel((0, 0))[0] > picture.getpixel((63, 63))[0]  # red where the heat is
    assert quadrant_shares(heatmap).tolist() == [1.0, 0.0, 0.0, 0.0]
