"""Foundation-model backbones from KerasHub presets (DINOv2, ViT, CLIP's vision encoder), as registry data.

A transformer's output is a sequence of tokens; TL Studio's head expects an image-shaped map. So the base built here
replays the KerasHub model's layers with its encoder unrolled (each transformer layer is a layer of the base, so freeze
by block works as for a CNN's stages) and ends in the patch tokens laid back on their grid (class and register tokens
dropped with Cropping1D, then Reshape: built-in layers). Average pooling of that map is the usual linear-probe
feature; the fast frozen phase caches it; Grad-CAM runs on that patch grid (see docs/backbones.md).

Pretrained weights come from `keras_hub.models.<Class>.from_preset(...)`, which takes a preset name (downloaded from
Kaggle) or a local folder. Offline, put a downloaded preset folder at `$TLSTUDIO_KERASHUB_DIR/<preset>/` (default
`$TLSTUDIO_HOME/kerashub/<preset>/`; the folder `save_to_preset` writes: config.json, model.weights.h5,
metadata.json …): it is used first. Random initialisation builds the same architecture from the numbers stored here,
only when the user chooses it. keras_hub is imported only when a base is built (and when a saved model holding its
layers is loaded: `tlcore.layers.loading`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tlcore.backbones.registry import Backbone, PublishedFigures
from tlcore.storage.paths import studio_home

if TYPE_CHECKING:
    import keras

__all__ = ["FAMILY", "PRESETS_DIR_ENV", "KerasHubBackbone", "KERASHUB", "names", "presets_root", "local_preset",
           "offline_advice"]

FAMILY = "KerasHub"
PRESETS_DIR_ENV = "TLSTUDIO_KERASHUB_DIR"


def presets_root() -> Path:
    """Where TL Studio looks for downloaded KerasHub preset folders (one sub-folder per preset name)."""
    return Path(os.environ.get(PRESETS_DIR_ENV, studio_home() / "kerashub")).expanduser()


def local_preset(preset: str) -> Path | None:
    """The downloaded preset folder placed on this server, or None."""
    folder = presets_root() / preset
    return folder if (folder / "config.json").is_file() else None


def offline_advice(preset: str) -> str:
    return (f"The KerasHub preset `{preset}` is not on this server and it cannot download it. Download the preset "
            f"elsewhere (`keras_hub.models.Backbone.from_preset(\"{preset}\").save_to_preset(\"{preset}\")`, or "
            f"the files of kaggle.com/models/keras), have the server's admin copy the folder into the KerasHub "
            f"presets folder as `{preset}/` (it must hold config.json and model.weights.h5), and reload. Or choose "
            "random initialisation.")


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
    source: str = ""  # where the published figures come from (overrides Backbone.source)
    embedding_layer: str = ""  # the layer holding the position table (one row per token, sized for the image)
    saves_position_ids: bool = False  # CLIP keeps its position ids as a (non-trainable) weight too

    def tokens(self, image_size: int) -> int:
        """Patch tokens plus class (and register) tokens at this image size: the position table's rows."""
        return (image_size // self.patch_size) ** 2 + self.prefix_tokens

    def params_change_at(self, image_size: int) -> tuple[str, int, int] | None:
        """(layer, trainable, non-trainable) weights the base has at `image_size` beyond its layer table's, which was
        measured at `default_size`: the position table has one row of `hidden_dim` per token, so the base's counts
        depend on the image size (DINOv2 at 84 px: 37 tokens, 84,480 weights fewer than at 224 px). None when the
        counts do not change."""
        hidden = dict(self.architecture).get("hidden_dim")
        if not self.embedding_layer or not hidden or image_size == self.default_size:
            return None
        rows = self.tokens(image_size) - self.tokens(self.default_size)
        return self.embedding_layer, rows * int(hidden), rows if self.saves_position_ids else 0

    @property
    def pretrained_label(self) -> str:
        return f"Pretrained (KerasHub preset `{self.preset}`)"

    def size_problem(self, image_size: int) -> str | None:
        if image_size % self.patch_size:
            return (f"{self.name} cuts images into {self.patch_size}-px patches: choose an image size that is a "
                    f"multiple of {self.patch_size} (e.g. {max(self.patch_size, image_size // self.patch_size * self.patch_size)}).")
        return None

    def _classes(self):
        import keras_hub

        return getattr(keras_hub.models, self.hub_class), getattr(keras_hub.models, self.preset_class or self.hub_class)

    def hub_model(self, image_size: int, weights: str | None) -> "keras.Model":
        """The KerasHub model itself: from the preset (local folder first) or freshly initialised (weights=None)."""
        problem = self.size_problem(image_size)
        if problem:
            raise ValueError(problem)
        build, load = self._classes()
        extra = dict(self.architecture)  # DINOv2 keeps its preset's position table and interpolates it to the image
        if weights is None:
            return build(**extra, image_shape=(image_size, image_size, 3))
        source = local_preset(self.preset)
        if source is None:
            from tlcore import network

            if not network.is_online():
                raise ValueError(offline_advice(self.preset))
        model = load.from_preset(str(source or self.preset), image_shape=(image_size, image_size, 3)) \
            if not self.preset_attribute else load.from_preset(str(source or self.preset))
        return getattr(model, self.preset_attribute) if self.preset_attribute else model

    def build_base(self, image_size: int, weights: str | None) -> "keras.Model":
        """The hub model's layers replayed one by one, its encoder's transformer layers unrolled (so each is a layer
        of the base and a block to freeze), ending in the patch-token grid."""
        import keras

        hub = self.hub_model(image_size, weights)
        x = inputs = keras.Input((image_size, image_size, 3), name="images")
        for layer in hub.layers[1:]:
            for call in _unrolled(layer):
                x = call(x)
            if layer.name == self.feature_layer:
                break
        grid = image_size // self.patch_size
        x = keras.layers.Cropping1D((self.prefix_tokens, 0), name="patch_tokens")(x)
        x = keras.layers.Reshape((grid, grid, x.shape[-1]), name="patch_grid")(x)
        return keras.Model(inputs, x, name=self.name.lower().replace("-", "_"))


# keras_hub 0.32's ViT layers write keys into their config that their constructors refuse, so a saved ViT would not
# load; these follow from what the config keeps (image, patch and hidden sizes, heads), so they are left out.
_UNLOADABLE_CONFIG_KEYS = {"ViTPatchingAndEmbedding": ("num_patches", "num_positions"), "ViTEncoderBlock": ("key_dim",)}


def _loadable(layer):
    """The layer, its config made loadable where keras_hub writes keys its constructor refuses (this instance only)."""
    refused = _UNLOADABLE_CONFIG_KEYS.get(type(layer).__name__)
    if refused:
        config = layer.get_config

        def get_config():
            return {key: value for key, value in config().items() if key not in refused}

        layer.get_config = get_config
    return layer


def _unrolled(layer) -> list:
    """An encoder layer holding every transformer layer (DINOv2's `layers`, ViT's `encoder_layers` between a dropout
    and a norm) as the layers it calls in order; any other layer as itself. Weights stay in the same objects."""
    if isinstance(getattr(layer, "encoder_layers", None), list):  # ViTEncoder
        return [layer.dropout, *map(_loadable, layer.encoder_layers), layer.layer_norm]
    if type(layer).__name__ == "DINOV2Encoder":
        return list(layer.layers)
    return [_loadable(layer)]


def _entry(name, preset, hub_class, size, min_size, preprocess, figures, architecture, patch, prefix, source, **extra):
    return KerasHubBackbone(
        name=name, family=FAMILY, module="", default_size=size, min_size=min_size, preprocess=preprocess,
        published=PublishedFigures(*figures), weights_file="",
        block_pattern=r"^(layers_\d+|transformer_block_\d+|encoder_block_\d+)$", preset=preset, hub_class=hub_class,
        architecture=tuple(architecture.items()), patch_size=patch, prefix_tokens=prefix, source=source, **extra)


# (size MB, top-1, top-5, parameters M, depth = transformer layers, CPU ms, GPU ms); None where no source gives it.
# Checked against the sources named in `source` (docs/backbones.md lists them).
KERASHUB: dict[str, KerasHubBackbone] = {entry.name: entry for entry in (
    _entry("DINOv2-S14", "dinov2_small", "DINOV2Backbone", 224, 224, "torch",
           (None, 0.811, None, 22.6, 12, None, None),
           dict(patch_size=14, num_layers=12, hidden_dim=384, num_heads=6, intermediate_dim=1536,
                position_embedding_shape=(518, 518, 3)), 14, 1,
           "top-1: ImageNet linear probe of ViT-S/14 distilled (81.1%), DINOv2 README 'Pretrained models' table "
           "(github.com/facebookresearch/dinov2; Oquab et al. 2023); parameters: KerasHub preset metadata "
           "(22,582,656, with its 518 px position table; at 224 px the base holds 22,155,264). 224 px only in TL "
           "Studio: its position table is interpolated to the image size, which would change the counts",
           fixed_weights_size=224, embedding_layer="embeddings"),
    _entry("ViT-B16", "vit_base_patch16_224_imagenet", "ViTBackbone", 224, 224, "tf",
           (None, None, None, 85.8, 12, None, None),
           dict(patch_size=16, num_layers=12, num_heads=12, hidden_dim=768, mlp_dim=3072), 16, 1,
           "parameters: KerasHub ViT model card presets table (vit_base_patch16_224_imagenet, 85,798,656; it gives "
           "no accuracy, so none is shown); architecture: Dosovitskiy et al. 2021 (ViT-B/16). Its position table is "
           "learnt for 224 px, so 224 px only",
           fixed_weights_size=224, embedding_layer="vit_patching_and_embedding"),
    # CLIP, not SigLIP: keras_hub 0.32's SigLIPVisionEmbedding reports one token more than it returns (docs/backbones.md)
    _entry("CLIP-B16-vision", "clip_vit_base_patch16", "CLIPVisionEncoder", 224, 224, "torch",
           (None, 0.683, None, 149.6, 12, None, None),
           dict(patch_size=16, hidden_dim=768, num_layers=12, num_heads=12, intermediate_dim=3072), 16, 1,
           "top-1: ImageNet zero-shot of OpenAI's ViT-B/16 (68.34%), OpenCLIP docs/openclip_results.csv "
           "(github.com/mlfoundations/open_clip; Radford et al. 2021), not a linear probe; parameters: KerasHub "
           "preset metadata (149,620,934, vision and text towers). Preprocessing: ImageNet mean/std, close to but "
           "not exactly CLIP's own. Position table learnt for 224 px, so 224 px only",
           preset_class="CLIPBackbone", preset_attribute="vision_encoder", feature_layer="layer_norm",
           fixed_weights_size=224, embedding_layer="embedding", saves_position_ids=True),
)}


def names() -> list[str]:
    return list(KERASHUB)
