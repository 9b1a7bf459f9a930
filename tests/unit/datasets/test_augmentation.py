"""tlcore.datasets.augmentation: every preview/training layer, crop keeping the input size, and old configs still loading."""

import numpy as np
import pytest

from tlcore.config.augmentation import AugmentConfig
from tlcore.config.training import TrainConfig
from tlcore.datasets.augmentation import augmentation_layers


def test_old_config_json_without_the_new_fields_loads_with_them_off():
    config = TrainConfig.from_dict({"dataset": "d", "augmentation": {"flip": "vertical", "rotation": 0.05,
                                                                     "zoom": 0.0}})

    assert config.augmentation == AugmentConfig(flip="vertical", rotation=0.05, zoom=0.0)
    assert (config.augmentation.translation, config.augmentation.crop) == (0.0, 0.0)


def test_round_trip_through_a_dict_keeps_every_field_and_ignores_unknown_keys():
    config = AugmentConfig("none", 0.0, 0.2, translation=0.1, contrast=0.3, brightness=0.2, crop=0.25)

    assert AugmentConfig.from_dict({**config.to_dict(), "future_option": 1}) == config


@pytest.mark.parametrize("field,value", [("rotation", 1.5), ("crop", -0.1), ("flip", "sideways")])
def test_out_of_range_values_are_refused_by_name(field, value):
    with pytest.raises(ValueError, match=field):  # the message names the field
        AugmentConfig(**{field: value})


def test_all_seven_layers_in_order_and_crop_needs_the_image_size():
    config = AugmentConfig("horizontal", 0.1, 0.1, translation=0.1, contrast=0.2, brightness=0.2, crop=0.2)

    names = [type(layer).__name__ for layer in augmentation_layers(config, 32).layers]

    assert names == ["RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast",
                     "RandomBrightness", "RandomCrop", "Resizing"]
    with pytest.raises(ValueError, match="image size"):
        augmentation_layers(config)


def test_crop_keeps_the_input_size_changes_pixels_in_training_and_leaves_inference_untouched():
    images = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3)).astype("float32")
    layers = augmentation_layers(AugmentConfig(flip="none", rotation=0.0, zoom=0.0, crop=0.25), 32)

    trained = np.asarray(layers(images, training=True))
    inferred = np.asarray(layers(images, training=False))

    assert trained.shape == inferred.shape == (4, 32, 32, 3)
    assert not np.allclose(trained, images)
    assert np.allclose(inferred, images, atol=1e-3)


def test_preview_gives_nine_different_images_of_the_input_size_and_a_seed_repeats_them():
    from tlcore.datasets.augmentation import preview

    image = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    config = AugmentConfig("horizontal", 0.2, 0.2, translation=0.1, contrast=0.3, brightness=0.2, crop=0.2)

    grid = preview(image, config, seed=5)

    assert len(grid) == 9 and all(tile.shape == (32, 32, 3) and tile.dtype == np.uint8 for tile in grid)
    assert len({tile.tobytes() for tile in grid}) == 9
    assert all(np.array_equal(a, b) for a, b in zip(grid, preview(image, config, seed=5)))
    assert not np.array_equal(grid[0], preview(image, config, seed=6)[0])
