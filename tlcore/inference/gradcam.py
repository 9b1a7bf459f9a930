"""Grad-CAM: which part of the image made the model choose a class (Selvaraju et al., 2017).

The class score's gradient with respect to the last spatial feature map of the base, averaged over space, weighs
that map's channels; the weighted sum (ReLU'd) is the heatmap. TL Studio models hold the base as one layer (a nested
model, or `InferenceModeBase` around it for a pretrained base), so the forward pass is replayed layer by layer with
that layer swapped for a copy of the base that also returns the target layer's output, run in inference mode.

Which map: the deepest one at least MIN_MAP_SIZE (7) cells on each side. A base's last map is often far smaller at
the sizes this app trains at (MobileNetV2 at 32 px: 1×1, and 4×4 four blocks earlier), and a 4×4 map's cells are 8 px
wide: its heat spread over the whole digit's quarter, on the background as much as on the ink (issue 24). At 7×7 or
finer the heat lands on the object (tests/unit/inference/test_gradcam_localisation.py, bench/gradcam_localisation.py).
A model with no map that fine (tiny inputs) is explained by gradient × input instead, on the pixels themselves; the
page names the method and the layer.

A vision transformer (the KerasHub backbones) has no convolutional map; its base ends in the patch tokens laid back on
their grid (`patch_grid`, see tlcore.backbones.kerashub), and that grid is the map explained: Grad-CAM on the
patch-token grid, the usual way to apply it to a ViT (tests/unit/backbones/test_kerashub.py checks it localises).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    import keras

__all__ = [
    "MIN_MAP_SIZE", "GRAD_CAM", "GRADIENT_X_INPUT", "GradCamUnavailable", "GradCam", "target_layer", "Explainer",
    "colourise", "overlay",
    "quadrant_shares"
]

# Dark blue → cyan → yellow → red: low to high attention, readable over grey or colour photos.
_COLOUR_STOPS = np.array([[0, 0, 96], [0, 128, 255], [0, 255, 200], [255, 230, 0], [255, 64, 0], [200, 0, 0]],
                         dtype=np.float64)


# At small input sizes a base's last map is tiny (MobileNetV2 at 32 px: 1×1), which cannot show where anything is;
# then the deepest map at least this many cells on each side is explained instead.
MIN_MAP_SIZE = 7
GRAD_CAM, GRADIENT_X_INPUT = "Grad-CAM", "gradient × input"


class GradCamUnavailable(ValueError):
    """The model has no spatial feature map to explain, or a shape Grad-CAM cannot follow."""


@dataclass(frozen=True)
class GradCam:
    heatmap: np.ndarray  # (image_size, image_size) in [0, 1], 1 where the class evidence is strongest
    class_index: int
    probability: float
    layer: str  # the feature map explained, e.g. "base/out_relu" ("image" for gradient × input)
    method: str = GRAD_CAM  # or GRADIENT_X_INPUT when no map is MIN_MAP_SIZE wide
    map_size: tuple[int, int] | None = None  # (rows, columns) of the explained map

    def describe(self) -> str:
        """'Grad-CAM · layer base/block_3_expand_relu (8×8 map)', for the caption under the heatmap."""
        if self.method == GRADIENT_X_INPUT:
            return (f"{GRADIENT_X_INPUT} on the pixels (no feature map of this model is {MIN_MAP_SIZE}×{MIN_MAP_SIZE} "
                    "or finer at this image size)")
        size = f" ({self.map_size[0]}×{self.map_size[1]} map)" if self.map_size else ""
        return f"{self.method} · layer {self.layer}{size}"

    @property
    def on_patch_tokens(self) -> bool:
        """The map is a transformer's patch-token grid (KerasHub backbones), not a convolution's output."""
        return self.layer.endswith("/patch_grid")


def _is_spatial(layer) -> bool:
    """A layer whose output is a feature map (padding adds a border that is not in the image, so it is skipped)."""
    if type(layer).__name__ in ("InputLayer", "ZeroPadding2D"):
        return False
    try:
        return len(layer.output.shape) == 4
    except (AttributeError, ValueError):  # layers never called (no output) or with several outputs
        return False


def _nested_bases(model: "keras.Model") -> list[tuple[object, "keras.Model"]]:
    """(layer of `model`, the base model it runs) for each layer that holds a base."""
    from tlcore.layers.inference_mode import inner_base

    return [(layer, inner_base(layer)) for layer in model.layers if inner_base(layer) is not None]


def _map_side(layer) -> int:
    """The smaller side of a layer's map (an unknown size counts as wide enough)."""
    rows, columns = layer.output.shape[1:3]
    return min(rows or MIN_MAP_SIZE, columns or MIN_MAP_SIZE)


def _last_usable_map(layers: list) -> object | None:
    """The deepest 4-D output at least MIN_MAP_SIZE on each side; else a transformer's patch-token grid (its only
    map, however coarse); else None (then gradient × input)."""
    wide = [layer for layer in layers if _map_side(layer) >= MIN_MAP_SIZE]
    if wide:
        return wide[-1]
    grids = [layer for layer in layers if layer.name == "patch_grid"]
    return grids[-1] if grids else None


def target_layer(model: "keras.Model") -> tuple[object | None, object | None]:
    """(the layer of `model` holding it or None, its deepest map at least MIN_MAP_SIZE wide, or None when there is
    none and gradient × input is used): the map Grad-CAM explains."""
    holder, _, layer = _target(model)
    return holder, layer


def _target(model: "keras.Model") -> tuple[object | None, "keras.Model | None", object]:
    """(the layer of `model` holding the map or None, the base model it is in or None, the map's layer)."""
    for holder, base in reversed(_nested_bases(model)):
        inner = [layer for layer in base.layers if _is_spatial(layer)]
        if inner:
            return holder, base, _last_usable_map(inner)
    top_level = [layer for layer in model.layers if _is_spatial(layer)]
    if not top_level:
        raise GradCamUnavailable("This model has no convolutional feature map, so Grad-CAM cannot explain it.")
    return None, None, _last_usable_map(top_level)



class Explainer:
    """Grad-CAM for one model; the split of the forward pass is worked out once."""

    def __init__(self, model: "keras.Model"):
        import keras

        self.model = model
        self.holder, base, self.layer = _target(model)
        self.method = GRAD_CAM if self.layer is not None else GRADIENT_X_INPUT
        mapped = self.layer.output if self.layer is not None else None
        if self.holder is None:
            self.layer_name = self.layer.name if self.layer is not None else "image"
            self._features_and_output = keras.Model(model.inputs, [mapped if mapped is not None else model.output,
                                                                   model.output])
        else:
            self.layer_name = f"{self.holder.name}/{self.layer.name}" if self.layer is not None else "image"
            self._inner = keras.Model(base.inputs, [mapped if mapped is not None else base.output, base.output])
            self._features_and_output = self._replay
            self._check_replay()
        self.map_size = tuple(int(side) for side in mapped.shape[1:3]) if mapped is not None and \
            all(mapped.shape[1:3]) else None

    def _check_replay(self) -> None:
        """Replaying layer by layer is only right when each layer feeds the next (the transfer-learning shape):
        a model with branches around the base would give other outputs, so it is refused rather than misexplained."""
        probe = np.full((1, *(size or 32 for size in self.model.input_shape[1:])), 127.0, dtype=np.float32)
        _, replayed = self._replay(probe)
        if not np.allclose(np.asarray(replayed), np.asarray(self.model(probe, training=False)), atol=1e-4):
            raise GradCamUnavailable("Grad-CAM follows single-path models (input → base → head); this model "
                                     "branches around its base.")

    def _replay(self, images):
        x, features = images, None
        for layer in self.model.layers:
            if type(layer).__name__ == "InputLayer":
                continue
            if layer is self.holder:
                features, x = self._inner(x, training=False)
            else:
                x = layer(x, training=False)
        return features, x

    def explain(self, image: np.ndarray, class_index: int | None = None) -> GradCam:
        """Heatmap for `class_index` (default: the predicted class) over one uint8 RGB image at the model's size."""
        import tensorflow as tf

        batch = tf.convert_to_tensor(np.asarray(image, dtype=np.float32)[None])
        if self.method == GRADIENT_X_INPUT:
            return self._gradient_x_input(batch, image, class_index)
        with tf.GradientTape() as tape:
            features, outputs = self._features_and_output(batch)
            probabilities = _as_class_probabilities(outputs)
            chosen = int(tf.argmax(probabilities[0])) if class_index is None else int(class_index)
            if not 0 <= chosen < probabilities.shape[-1]:
                raise ValueError(f"Class index {chosen} is outside 0..{probabilities.shape[-1] - 1}.")
            score = probabilities[0, chosen]
        gradients = tape.gradient(score, features)
        weights = tf.reduce_mean(gradients, axis=(1, 2))  # one weight per channel
        cam = tf.nn.relu(tf.reduce_sum(features[0] * weights[0], axis=-1)).numpy()
        return GradCam(_resized_unit(cam, image.shape[0], image.shape[1]), chosen, float(probabilities[0, chosen]),
                       self.layer_name, GRAD_CAM, self.map_size)

    def _gradient_x_input(self, batch, image: np.ndarray, class_index: int | None) -> GradCam:
        """Per pixel, |Σ over channels of gradient × (pixel − mid-grey)|: which pixels moved the class score."""
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(batch)
            _, outputs = self._features_and_output(batch)
            probabilities = _as_class_probabilities(outputs)
            chosen = int(tf.argmax(probabilities[0])) if class_index is None else int(class_index)
            if not 0 <= chosen < probabilities.shape[-1]:
                raise ValueError(f"Class index {chosen} is outside 0..{probabilities.shape[-1] - 1}.")
            score = probabilities[0, chosen]
        gradients = tape.gradient(score, batch)[0].numpy()
        cam = np.abs((gradients * (np.asarray(batch[0]) - 127.5)).sum(axis=-1))
        return GradCam(_resized_unit(cam, image.shape[0], image.shape[1]), chosen, float(probabilities[0, chosen]),
                       "image", GRADIENT_X_INPUT, None)


def _as_class_probabilities(outputs):
    """One sigmoid unit means P(class 1): class 0's score is 1 - p (so its Grad-CAM is the opposite evidence)."""
    import tensorflow as tf

    if outputs.shape[-1] == 1:
        return tf.concat([1.0 - outputs, outputs], axis=-1)
    return outputs


def _resized_unit(cam: np.ndarray, height: int, width: int) -> np.ndarray:
    peak = float(cam.max())
    unit = cam / peak if peak > 0 else np.zeros_like(cam)
    resized = Image.fromarray(unit.astype(np.float32), mode="F").resize((width, height), Image.Resampling.BILINEAR)
    return np.clip(np.asarray(resized), 0.0, 1.0)


def colourise(heatmap: np.ndarray) -> np.ndarray:
    """(h, w) in [0, 1] → (h, w, 3) uint8 through a blue-to-red colour scale."""
    positions = np.clip(heatmap, 0, 1) * (len(_COLOUR_STOPS) - 1)
    below = np.floor(positions).astype(int).clip(0, len(_COLOUR_STOPS) - 2)
    fraction = (positions - below)[..., None]
    colours = _COLOUR_STOPS[below] * (1 - fraction) + _COLOUR_STOPS[below + 1] * fraction
    return colours.round().astype(np.uint8)


def overlay(image: Image.Image | np.ndarray, heatmap: np.ndarray, opacity: float = 0.45,
            width: int = 224) -> Image.Image:
    """The image with the heatmap blended over it, enlarged to `width` (small images stay sharp)."""
    base = image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image, dtype=np.uint8))
    base = base.convert("RGB")
    size = (width, max(1, round(width * base.height / base.width)))
    base = base.resize(size, Image.Resampling.NEAREST if max(base.size) < width // 2 else Image.Resampling.BILINEAR)
    heat = Image.fromarray(heatmap.astype(np.float32), mode="F").resize(size, Image.Resampling.BILINEAR)
    colour = Image.fromarray(colourise(np.asarray(heat)), mode="RGB")
    return Image.blend(base, colour, opacity)


def quadrant_shares(heatmap: np.ndarray) -> np.ndarray:
    """Share of the heatmap's mass in each quadrant: [top-left, top-right, bottom-left, bottom-right]."""
    h, w = heatmap.shape
    quadrants = [heatmap[:h // 2, :w // 2], heatmap[:h // 2, w // 2:], heatmap[h // 2:, :w // 2],
                 heatmap[h // 2:, w // 2:]]
    total = float(heatmap.sum())
    return np.array([q.sum() / total if total > 0 else 0.25 for q in quadrants])
