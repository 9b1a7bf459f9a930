"""The backbone registry: every Keras application as data, driving the table, the model builder, the probe and tests.

Adding a backbone is one `_register(...)` line; nothing else in the app names a model.
Published figures are those of the Keras applications documentation (see `PUBLISHED_SOURCE`).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # TensorFlow is imported lazily: only building a model needs it.
    import keras

__all__ = ["PUBLISHED_SOURCE", "PublishedFigures", "Backbone", "REGISTRY", "names", "published_table"]

PUBLISHED_SOURCE = "Keras Applications documentation, 'Available models' table (keras.io/api/applications)"


@dataclass(frozen=True)
class PublishedFigures:
    """ImageNet figures as published; None where the documentation gives none (shown as '–')."""

    size_mb: float | None
    top1: float | None  # fraction, e.g. 0.713
    top5: float | None
    parameters_m: float | None  # millions, with the ImageNet top
    depth: int | None
    cpu_ms: float | None  # per inference step, batch of 32 as documented
    gpu_ms: float | None


@dataclass(frozen=True)
class Backbone:
    """One Keras application. `preprocess` names how raw 0..255 RGB pixels are scaled (see tlcore.layers.preprocess)."""

    name: str
    family: str
    module: str  # keras.applications sub-module, e.g. "mobilenet_v2"
    default_size: int
    min_size: int
    preprocess: str  # "tf" → [-1, 1]; "caffe" → BGR minus ImageNet mean; "torch" → ImageNet mean/std; "none" → built in
    published: PublishedFigures
    weights_file: str  # file Keras caches in ~/.keras/models; "{rows}" is replaced by weights_rows(size)
    block_pattern: str  # regex on layer names; group 1 is the block (stage) a layer starts or belongs to
    weights_sizes: tuple[int, ...] = ()  # input sizes with weights of their own; others load the default_size file
    fixed_weights_size: int | None = None  # ImageNet weights only load at this input size (NASNet)

    def weights_rows(self, image_size: int) -> int:
        return image_size if image_size in self.weights_sizes else self.default_size

    def weights_filename(self, image_size: int) -> str:
        return self.weights_file.format(rows=self.weights_rows(image_size))

    def constructor(self):
        import keras

        return getattr(keras.applications, self.name)

    def build_base(self, image_size: int, weights: str | None) -> "keras.Model":
        """The convolutional base without its ImageNet top. `weights` is "imagenet", None, or a weights file path."""
        kwargs: dict[str, Any] = {"include_top": False, "weights": weights, "input_shape": (image_size, image_size, 3)}
        if self.preprocess == "none" and self.family in _FAMILIES_WITH_PREPROCESSING_FLAG:
            kwargs["include_preprocessing"] = True
        return self.constructor()(**kwargs)

    @property
    def own_weights_file(self) -> Path | None:
        """A base whose trained weights are its own (a custom backbone's saved file); None: ImageNet weights."""
        return None

    @property
    def layer_table_file(self) -> Path | None:
        """Where this backbone keeps its own layer table (a custom backbone's folder); None: shipped or measured."""
        return None

    @property
    def has_pretrained_weights(self) -> bool:
        """False for a family that only trains from scratch (a small CNN of your own): no ImageNet choice."""
        return True

    def known_layer_table(self) -> dict | None:
        """A layer table this backbone can state without building (LayerTable.to_dict form); None: look it up."""
        return None

    def feature_map_side(self, image_size: int) -> int | None:
        """The side of the base's output map when the backbone knows it itself; None: the family's rule."""
        return None

    def size_problem(self, image_size: int) -> str | None:
        """Why this backbone cannot take images of this size (beyond `min_size`), or None."""
        return None

    @property
    def pretrained_label(self) -> str:
        """What the Train page calls the pretrained choice."""
        return "ImageNet (pretrained)"

    @property
    def source(self) -> str:
        """Where the published figures come from."""
        return "Keras Applications docs"

    def block_of(self, layer_name: str) -> str | None:
        match = re.search(self.block_pattern, layer_name)
        return match.group(1) if match else None

    def to_row(self) -> dict[str, Any]:
        row = {"name": self.name, "family": self.family, "default_size": self.default_size, "min_size": self.min_size}
        row.update(asdict(self.published))
        row["source"] = self.source
        return row


_FAMILIES_WITH_PREPROCESSING_FLAG = {"EfficientNetV2", "MobileNetV3", "ConvNeXt"}

REGISTRY: dict[str, Backbone] = {}


def _register(name, family, module, size, min_size, preprocess, figures, weights_file, block_pattern, **extra):
    REGISTRY[name] = Backbone(
        name, family, module, size, min_size, preprocess, PublishedFigures(*figures), weights_file, block_pattern,
        **extra,
    )


_TF_KERNELS = "{}_weights_tf_dim_ordering_tf_kernels_notop.h5"
_MOBILENET_SIZES = (128, 160, 192, 224)

# name, family, module, default size, min size, preprocess,
# (size MB, top-1, top-5, params M, depth, CPU ms, GPU ms), weights file, block pattern
_register("Xception", "Xception", "xception", 299, 71, "tf",
          (88, .790, .945, 22.9, 81, 109.4, 8.1), _TF_KERNELS.format("xception"), r"^(block\d+)_")
_register("VGG16", "VGG", "vgg16", 224, 32, "caffe",
          (528, .713, .901, 138.4, 16, 69.5, 4.2), _TF_KERNELS.format("vgg16"), r"^(block\d)_")
_register("VGG19", "VGG", "vgg19", 224, 32, "caffe",
          (549, .713, .900, 143.7, 19, 84.8, 4.4), _TF_KERNELS.format("vgg19"), r"^(block\d)_")
for _depth, _fig, _v2fig in (
    (50, (98, .749, .921, 25.6, 107, 58.2, 4.6), (98, .760, .930, 25.6, 103, 45.6, 4.4)),
    (101, (171, .764, .928, 44.7, 209, 89.6, 5.2), (171, .772, .938, 44.7, 205, 72.7, 5.4)),
    (152, (232, .766, .931, 60.4, 311, 127.4, 6.5), (232, .780, .942, 60.4, 307, 107.5, 6.6)),
):
    _register(f"ResNet{_depth}", "ResNet", "resnet", 224, 32, "caffe", _fig,
              _TF_KERNELS.format(f"resnet{_depth}"), r"^(conv\d)_")
    _register(f"ResNet{_depth}V2", "ResNetV2", "resnet_v2", 224, 32, "tf", _v2fig,
              _TF_KERNELS.format(f"resnet{_depth}v2"), r"^(conv\d)_")
_register("InceptionV3", "Inception", "inception_v3", 299, 75, "tf",
          (92, .779, .937, 23.9, 189, 42.2, 6.9), _TF_KERNELS.format("inception_v3"), r"^(mixed\d+)")
_register("InceptionResNetV2", "Inception", "inception_resnet_v2", 299, 75, "tf",
          (215, .803, .953, 55.9, 449, 130.2, 10.0), _TF_KERNELS.format("inception_resnet_v2"),
          r"^(mixed_\d[a-z]|block\d+_\d+|conv_7b)")
_register("MobileNet", "MobileNet", "mobilenet", 224, 32, "tf",
          (16, .704, .895, 4.3, 55, 22.6, 3.4), "mobilenet_1_0_{rows}_tf_no_top.h5", r"^conv_(?:dw|pw)_(\d+)",
          weights_sizes=_MOBILENET_SIZES)
_register("MobileNetV2", "MobileNet", "mobilenet_v2", 224, 32, "tf",
          (14, .713, .901, 3.5, 105, 25.9, 3.8),
          "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{rows}_no_top.h5", r"^(block_\d+)_",
          weights_sizes=(96,) + _MOBILENET_SIZES)
for _variant in ("Small", "Large"):
    _register(f"MobileNetV3{_variant}", "MobileNetV3", "mobilenet_v3", 224, 32, "none",
              (None,) * 7, f"weights_mobilenet_v3_{_variant.lower()}_224_1.0_float_no_top_v2.h5",
              r"^(expanded_conv(?:_\d+)?)_")
for _depth, _fig in ((121, (33, .750, .923, 8.1, 242, 77.1, 5.4)), (169, (57, .762, .932, 14.3, 338, 96.4, 6.3)),
                     (201, (80, .773, .936, 20.2, 402, 127.2, 6.7))):
    _register(f"DenseNet{_depth}", "DenseNet", "densenet", 224, 32, "torch", _fig,
              _TF_KERNELS.format(f"densenet{_depth}"), r"^((?:conv|pool)\d)_")
_register("NASNetMobile", "NASNet", "nasnet", 224, 32, "tf",
          (23, .744, .919, 5.3, 389, 27.0, 6.7), "nasnet_mobile_no_top.h5", r"_((?:stem|reduce)_\d+|\d+)$", fixed_weights_size=224)
_register("NASNetLarge", "NASNet", "nasnet", 331, 32, "tf",
          (343, .825, .960, 88.9, 533, 344.5, 20.0), "nasnet_large_no_top.h5", r"_((?:stem|reduce)_\d+|\d+)$", fixed_weights_size=331)
for _b, _size, _fig in (
    (0, 224, (29, .771, .933, 5.3, 132, 46.0, 4.9)), (1, 240, (31, .791, .944, 7.9, 186, 60.2, 5.6)),
    (2, 260, (36, .801, .949, 9.2, 186, 80.8, 6.5)), (3, 300, (48, .816, .957, 12.3, 210, 140.0, 8.8)),
    (4, 380, (75, .829, .964, 19.5, 258, 308.3, 15.1)), (5, 456, (118, .836, .967, 30.6, 312, 579.2, 25.3)),
    (6, 528, (166, .840, .968, 43.3, 360, 958.1, 40.4)), (7, 600, (256, .843, .970, 66.7, 438, 1578.9, 61.6)),
):
    _register(f"EfficientNetB{_b}", "EfficientNet", "efficientnet", _size, 32, "none", _fig,
              f"efficientnetb{_b}_notop.h5", r"^(block\d)[a-z]_")
for _v, _size, _fig in (
    ("B0", 224, (29, .787, .943, 7.2)), ("B1", 240, (34, .798, .950, 8.2)), ("B2", 260, (42, .805, .951, 10.2)),
    ("B3", 300, (59, .820, .958, 14.5)), ("S", 384, (88, .839, .967, 21.6)), ("M", 480, (220, .853, .974, 54.4)),
    ("L", 480, (479, .857, .975, 119.0)),
):
    _register(f"EfficientNetV2{_v}", "EfficientNetV2", "efficientnet_v2", _size, 32, "none",
              _fig + (None, None, None), f"efficientnetv2-{_v.lower()}_notop.h5", r"^(block\d)[a-z]_")
for _v, _fig in (("Tiny", (109.42, .813, None, 28.6)), ("Small", (192.29, .823, None, 50.2)),
                 ("Base", (338.58, .853, None, 88.5)), ("Large", (755.07, .863, None, 197.7)),
                 ("XLarge", (1310, .867, None, 350.1))):
    _register(f"ConvNeXt{_v}", "ConvNeXt", "convnext", 224, 32, "none", _fig + (None, None, None),
              f"convnext_{_v.lower()}_notop.h5", r"(?:stage_|downsampling_block_)(\d+)")


def names() -> list[str]:
    """The Keras applications (what published figures exist for)."""
    return list(REGISTRY)


def published_table() -> list[dict[str, Any]]:
    return [backbone.to_row() for backbone in REGISTRY.values()]
