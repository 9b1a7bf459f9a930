"""A small CNN of your own as a backbone family: the lab's first model, built from a shape set on the Train page.

Convolution blocks (Conv2D + ReLU, then 2×2 pooling) on pixels the base scales to 0..1 itself; the head (Flatten, the
lab's 128-unit dense layer, softmax) is TL Studio's usual head. Trained from scratch only. Its layer table and
feature-map side are computed from the shape, so the Train page counts parameters live without TensorFlow, and
`tests/unit/backbones/test_small_cnn.py` checks them against Keras.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tlcore.backbones.registry import Backbone, PublishedFigures
from tlcore.config.small_cnn import SMALL_CNN, SmallCNNConfig

if TYPE_CHECKING:
    import keras

__all__ = ["FAMILY", "NAMES", "SmallCNNBackbone", "small_cnn_backbone", "load_small_cnn"]

FAMILY = "SmallCNN"
_INPUT, _RESCALE = "image_in", "rescale"


def _side_after_block(side: int, shape: SmallCNNConfig) -> int:
    side = side if shape.padding == "same" else side - shape.kernel_size + 1
    return side // 2 if shape.pooling != "none" else side


def _min_size(shape: SmallCNNConfig) -> int:
    """The smallest input whose feature map keeps at least one pixel (never below 8)."""
    size = 8
    while _output_side(shape, size) < 1:
        size += 1
    return size


def _output_side(shape: SmallCNNConfig, image_size: int) -> int:
    side = image_size
    for _ in range(shape.blocks):
        side = _side_after_block(side, shape)
        if side < 1:
            return 0
    return side


@dataclass(frozen=True)
class SmallCNNBackbone(Backbone):
    """A `Backbone` whose layers are a `SmallCNNConfig`; `weights` must be None (it trains from scratch)."""

    shape: SmallCNNConfig = field(default_factory=SmallCNNConfig)

    @property
    def has_pretrained_weights(self) -> bool:
        return False

    @property
    def smallest_image(self) -> int:
        """The smallest input this shape leaves a pixel of (`min_size` stays 8 for every shape, so the Train page's
        image size does not reset while the shape is edited; a size below this one is refused with this number)."""
        return _min_size(self.shape)

    def feature_map_side(self, image_size: int) -> int | None:
        side = _output_side(self.shape, image_size)
        if side < 1:
            raise ValueError(f"{self.name} needs images of at least {self.smallest_image} px: its convolutions and "
                             f"pooling leave no pixel of a {image_size} px image. Use fewer blocks or larger images.")
        return side

    def known_layer_table(self) -> dict:
        rows = [[_INPUT, "InputLayer", 0, 0], [_RESCALE, "Rescaling", 0, 0]]
        channels = 3
        for index, filters in enumerate(self.shape.block_filters(), start=1):
            rows.append([f"block{index}_conv", "Conv2D", self.shape.kernel_size ** 2 * channels * filters + filters, 0])
            if self.shape.pooling != "none":
                kind = {"max": "MaxPooling2D", "avg": "AveragePooling2D"}[self.shape.pooling]
                rows.append([f"block{index}_pool", kind, 0, 0])
            channels = filters
        return {"backbone": self.name, "feature_dim": channels, "layers": rows}

    def build_base(self, image_size: int, weights: str | None) -> "keras.Model":
        import keras

        if weights is not None:
            raise ValueError(f"{self.name} is your own small CNN: it trains from scratch (choose random "
                             "initialisation); there are no pretrained weights for it.")
        self.feature_map_side(image_size)  # a plain message for a size the shape leaves no pixel of
        pool = {"max": keras.layers.MaxPooling2D, "avg": keras.layers.AveragePooling2D}.get(self.shape.pooling)
        inputs = keras.Input((image_size, image_size, 3), name=_INPUT)
        x = keras.layers.Rescaling(1 / 255, name=_RESCALE)(inputs)  # 0..255 pixels → 0..1, as the lab does
        for index, filters in enumerate(self.shape.block_filters(), start=1):
            x = keras.layers.Conv2D(filters, self.shape.kernel_size, padding=self.shape.padding, activation="relu",
                                    name=f"block{index}_conv")(x)
            if pool is not None:
                x = pool(2, name=f"block{index}_pool")(x)
        return keras.Model(inputs, x, name=self.name.lower().replace("-", "_"))

    def keras_code(self) -> list[str]:
        """The same base as plain Keras lines (for the script and the notebook), ending in `base_model`."""
        pool = {"max": "MaxPooling2D", "avg": "AveragePooling2D"}.get(self.shape.pooling)
        lines = [f'base_in = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3), name="{_INPUT}")',
                 f'y = keras.layers.Rescaling(1 / 255, name="{_RESCALE}")(base_in)  # pixels 0..255 → 0..1']
        for index, filters in enumerate(self.shape.block_filters(), start=1):
            lines.append(f"y = keras.layers.Conv2D({filters}, {self.shape.kernel_size}, padding="
                         f'"{self.shape.padding}", activation="relu", name="block{index}_conv")(y)')
            if pool:
                lines.append(f'y = keras.layers.{pool}(2, name="block{index}_pool")(y)')
        lines.append(f'base_model = keras.Model(base_in, y, name="{self.name.lower().replace("-", "_")}")')
        return lines


def small_cnn_backbone(shape: SmallCNNConfig) -> SmallCNNBackbone:
    """The backbone entry for a shape (checked: ValueError with a plain message)."""
    shape.validate()
    return SmallCNNBackbone(
        name=shape.backbone_name(), family=FAMILY, module="", default_size=32, min_size=8,
        preprocess="none", published=PublishedFigures(*(None,) * 7), weights_file="", block_pattern=r"^(block\d+)_",
        shape=shape)


def load_small_cnn(name: str) -> SmallCNNBackbone | None:
    """The small CNN a backbone name spells ("SmallCNN", "SmallCNN-b…"), or None for any other name."""
    shape = SmallCNNConfig.from_name(name)
    return None if shape is None else small_cnn_backbone(shape)


NAMES = [SMALL_CNN]  # what the backbone list offers; every other shape is reached through the Train page's form
