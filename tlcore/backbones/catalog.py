"""The catalog: every backbone by name, Keras applications first, then custom backbones cut from your own models.

The registry stays a leaf; the catalog sits above it and the custom backbones, and answers lookups by name.
"""

from __future__ import annotations

from tlcore.backbones import custom as custom_backbones
from tlcore.backbones.layer_tables import LayerTable, table_for
from tlcore.backbones.registry import REGISTRY, Backbone, names

__all__ = ["get", "all_names"]



def get(name: str) -> Backbone:
    """Look a backbone up by its Keras name, or a custom one ("custom-…"); the error lists the valid names."""
    if name in REGISTRY:
        return REGISTRY[name]
    custom = custom_backbones.load_custom(name)
    if custom is None:
        raise KeyError(f"Unknown backbone '{name}'. Known: {', '.join(all_names())}")
    return custom


def all_names() -> list[str]:
    """Keras applications, then the custom backbones cut from your own models (tlcore.backbones.custom)."""
    return names() + custom_backbones.custom_names()


def layer_table(name: str) -> LayerTable:
    """The layer table of the backbone called `name` (Keras application or custom)."""
    return table_for(get(name))
