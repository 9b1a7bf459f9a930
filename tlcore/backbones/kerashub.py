"""Foundation-model backbones from KerasHub presets (DINOv2, ViT, CLIP's vision encoder), as registry data.

A transformer's output is a sequence of tokens; TL Studio's head expects an image-shaped map. So the base built here
ends in the patch tokens laid back on their grid (class and register tokens dropped with Cropping1D, then Reshape:
built-in layers, so a saved model still loads in safe mode): average pooling of that map is the usual linear-probe
feature, and Flatten, the probe and gradient-based maps work as for a CNN.

Pretrained weights come from `keras_hub.models.<Class>.from_preset(...)`, which takes a preset name (downloaded from
Kaggle) or a local folder. Offline, put a downloaded preset folder at `$TLSTUDIO_HOME/kerashub/<preset>/` (the folder
`save_to_preset` writes: config.json, model.weights.h5, metadata.json …): it is used first. Random initialisation
builds the same architecture from the numbers stored here, only when the user chooses it. keras_hub is imported only
when a base is built.

NOT YET WIRED (see the report of issue 18): these entries are not in `catalog.all_names()`; the Train page, freeze by
transformer block for DINOv2/ViT (their encoder is one Keras layer), explanations and export are still to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tlcore.backbones.registry import Backbone, PublishedFigures
from tlcore.storage.paths import studio_home

if TYPE_CHECKING:
    import keras

__all__ = ["FAMILY", "KerasHubBackbone", "KERASHUB", "presets_root", "local_preset", "offline_advice"]

FAMILY = "KerasHub"


def presets_root() -> Path:
    return studio_home() / "kerashub"


def local_preset(preset: str) -> Path | None:
    """The downloaded preset folder placed on this server, or None."""
    folder = presets_root() / preset
    return folder if (folder / "config.json").is_file() else None


def offline_advice(preset: str) -> str:
    return (f"The KerasHub preset `{preset}` is not on this server and it cannot download it. Download the preset "
            f"elsewhere (e.g. `keras_hub.models.Backbone.from_preset(\"{preset}\")` then `.save_to_preset(folder)`, or "
            f"from kaggle.com/models/keras), copy the folder to `{presets_root() / preset}/` (it must hold "
            "config.json), and reload. Or choose random initialisation.")


@dataclass(frozen=True)
class KerasHubBackbone(Backbone):
    """A KerasHub vision backbone: `hub_class` builds it (random weights) from `architecture`; `preset_class`
    (and `preset_attribute`, e.g. CLIP's `vision_encoder`) loads the preset."""

    preset: str = ""
    hub_class: str = ""
    preset_class: str = ""
    preset_attribute: str = ""
    architecture: tuple[tuple[str, object], ...] = ()
    patch_size: int = 16
    prefix_tokens: int = 0  # class and register tokens before the patch tokens
    feature_layer: str = ""  # the layer whose output is the token sequence; "" = the backbone's output
    source: str = ""  # where the published figures come from

    def _classes(self):
        import keras_hub

        return getattr(keras_hub.models, self.hub_class), getattr(keras_hub.models, self.preset_class or self.hub_class)

    def hub_model(self, image_size: int, weights: str | None) -> "keras.Model":
        """The KerasHub model itself: from the preset (local folder first) or freshly initialised (weights=None)."""
        if image_size % self.patch_size:
            raise ValueError(f"{self.name} cuts images into {self.patch_size}-px patches: choose an image size that "
                             f"is a multiple of {self.patch_size}.")
        build, load = self._classes()
        extra = dict(self.architecture)
        if "position_embedding_shape" in extra:  # DINOv2 interpolates its positions to the image size
            extra["position_embedding_shape"] = (image_size, image_size, 3) if weights is None else \
                extra["position_embedding_shape"]
        if weights is None:
            return build(**extra, image_shape=(image_size, image_size, 3))
        source = local_preset(self.preset)
        if source is None:
            from tlcore.storage import network

            if not network.is_online():
                raise ValueError(offline_advice(self.preset))
        model = load.from_preset(str(source or self.preset), image_shape=(image_size, image_size, 3)) \
            if not self.preset_attribute else load.from_preset(str(source or self.preset))
        return getattr(model, self.preset_attribute) if self.preset_attribute else model

    def build_base(self, image_size: int, weights: str | None) -> "keras.Model":
        import keras

        hub = self.hub_model(image_size, weights)
        tokens = hub.get_layer(self.feature_layer).output if self.feature_layer else hub.output
        grid = image_size // self.patch_size
        x = keras.layers.Cropping1D((self.prefix_tokens, 0), name="patch_tokens")(tokens)
        x = keras.layers.Reshape((grid, grid, tokens.shape[-1]), name="patch_grid")(x)
        return keras.Model(hub.inputs[0], x, name=self.name.lower().replace("-", "_"))


def _entry(name, preset, hub_class, size, preprocess, figures, architecture, patch, prefix, source, **extra):
    return KerasHubBackbone(
        name=name, family=FAMILY, module="", default_size=size, min_size=patch, preprocess=preprocess,
        published=PublishedFigures(*figures), weights_file="", block_pattern=r"(encoder_block_\d+|encoder_layer_\d+)",
        preset=preset, hub_class=hub_class, architecture=tuple(architecture.items()), patch_size=patch,
        prefix_tokens=prefix, source=source, **extra)


# (size MB, top-1, top-5, parameters M, depth = transformer layers, CPU ms, GPU ms); None where no source gives it.
KERASHUB: dict[str, KerasHubBackbone] = {entry.name: entry for entry in (
    _entry("DINOv2-S14", "dinov2_small", "DINOV2Backbone", 224, "torch",
           (None, 0.811, None, 22.6, 12, None, None),
           dict(patch_size=14, num_layers=12, hidden_dim=384, num_heads=6, intermediate_dim=1536,
                position_embedding_shape=(518, 518, 3)), 14, 1,
           "top-1: ImageNet linear probe of ViT-S/14, DINOv2 README (github.com/facebookresearch/dinov2; Oquab et al. "
           "2023); parameters: KerasHub preset metadata (22,582,656)"),
    _entry("ViT-B16", "vit_base_patch16_224_imagenet", "ViTBackbone", 224, "tf",
           (None, None, None, 85.8, 12, None, None),
           dict(patch_size=16, num_layers=12, num_heads=12, hidden_dim=768, mlp_dim=3072), 16, 1,
           "parameters: KerasHub preset metadata (85,798,656); architecture: Dosovitskiy et al. 2021 (ViT-B/16)",
           fixed_weights_size=224),
    # CLIP, not SigLIP: keras_hub 0.32's SigLIPVisionEmbedding reports one token more than it returns (symbolic
    # (None, 17, 16) for 16 patches), so no layer after it can be built on its shape.
    _entry("CLIP-B16-vision", "clip_vit_base_patch16", "CLIPVisionEncoder", 224, "torch",
           (None, None, None, 149.6, 12, None, None),
           dict(patch_size=16, hidden_dim=768, num_layers=12, num_heads=12, intermediate_dim=3072), 16, 1,
           "parameters: KerasHub preset metadata (149,620,934, vision and text towers); architecture: Radford et "
           "al. 2021 (CLIP ViT-B/16). Preprocessing: ImageNet mean/std, close to but not exactly CLIP's own",
           preset_class="CLIPBackbone", preset_attribute="vision_encoder", feature_layer="layer_norm",
           fixed_weights_size=224),
)}
