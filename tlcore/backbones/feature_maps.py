"""The side of a base's output feature map at a given input size, without TensorFlow (for Flatten heads' counts).

Each family downsamples by a fixed chain of strided steps; a step (kernel k, stride s) maps a side n to
(n - k) // s + 1 ("same"-padded stride-2 steps are (1, 2): ceil(n / 2)). The chains were fitted to Keras's own
output shapes (every input size from the family's minimum to 419 px; NASNet at 21 sizes) and are checked against
Keras in tests/unit/test_model_heads.py.
"""

from __future__ import annotations

from tlcore.backbones import catalog as backbones

__all__ = ["feature_map_side"]

_CEIL = (1, 2)  # "same" padding, stride 2
_FLOOR = (2, 2)  # 2×2 pooling, stride 2, valid
_CHAINS: dict[str, tuple[tuple[int, int], ...]] = {
    "Xception": (_CEIL, _FLOOR, _FLOOR, _CEIL, _CEIL),
    "VGG": (_FLOOR,) * 5,
    "ResNet": (_CEIL,) * 5,
    "ResNetV2": (_CEIL,) * 5,
    "Inception": (_CEIL, _FLOOR, _CEIL, _FLOOR, _CEIL, (3, 1)),
    "MobileNet": (_CEIL,) + (_FLOOR,) * 4,
    "MobileNetV3": (_CEIL,) + (_FLOOR,) * 4,
    "DenseNet": (_CEIL, _CEIL, _FLOOR, _FLOOR, _FLOOR),
    "NASNet": (_CEIL, _FLOOR, _CEIL, _CEIL, _CEIL),
    "EfficientNet": (_FLOOR,) * 5,
    "EfficientNetV2": (_CEIL,) * 5,
    "ConvNeXt": (_FLOOR,) * 5,
}


def feature_map_side(backbone_name: str, image_size: int) -> int:
    family = backbones.get(backbone_name).family
    if family not in _CHAINS:
        raise ValueError(f"No feature-map size rule for the {family} family; use avg or max pooling.")
    side = image_size
    for kernel, stride in _CHAINS[family]:
        side = (side - kernel) // stride + 1
    return side
