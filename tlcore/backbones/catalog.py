"""The catalog: every backbone by name: Keras applications, KerasHub presets, the small CNN of your own, custom
backbones cut from models.

The registry stays a leaf; the catalog sits above it and the custom backbones, and answers lookups by name.
"""

from __future__ import annotations

from tlcore.backbones import custom as custom_backbones
from tlcore.backbones.kerashub import KERASHUB
from tlcore.backbones.kerashub import names as kerashub_names
from tlcore.backbones.layer_tables import LayerTable, table_for
from tlcore.backbones.registry import REGISTRY, Backbone, names
from tlcore.backbones.small_cnn import NAMES as SMALL_CNN_NAMES
from tlcore.backbones.small_cnn import load_small_cnn

__all__ = ["get", "all_names", "pretrained_names", "layer_table"]


def get(name: str) -> Backbone:
    """Look a backbone up by its Keras name, or a custom one ("custom-…"); the error lists the valid names."""
    if name in REGISTRY:
        return REGISTRY[name]
    if name in KERASHUB:
        return KERASHUB[name]
    small_cnn = load_small_cnn(name)
    if small_cnn is not None:
        return small_cnn
    custom = custom_backbones.load_custom(name)
    if custom is None:
        raise KeyError(f"Unknown backbone '{name}'. Known: {', '.join(all_names())}")
    return custom


def pretrained_names() -> list[str]:
    """The backbones with published pretrained weights: Keras applications, then KerasHub presets."""
    return names() + kerashub_names()


def all_names() -> list[str]:
    """Keras applications, KerasHub presets, the small CNN of your own, then the custom backbones cut from your own
    models."""
    return pretrained_names() + SMALL_CNN_NAMES + custom_backbones.custom_names()


def layer_table(name: str) -> LayerTable:
    """The layer table of the backbone called `name` (Keras application or custom)."""
    return table_for(get(name))
