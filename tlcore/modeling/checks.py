"""Checks of a TrainConfig that need the backbone catalog, run where a job is submitted (config itself stays a leaf)."""

from __future__ import annotations

from tlcore.backbones.catalog import get
from tlcore.config.training import TrainConfig

__all__ = ["check_config"]


def check_config(config: TrainConfig) -> None:
    """Raise ValueError (KeyError for an unknown backbone) for what this backbone cannot take; the plain fields were
    checked when the TrainConfig was made (`tlcore.config.load_config`), so only the catalog's rules remain."""
    backbone = get(config.backbone)
    if config.image_size < backbone.min_size:
        raise ValueError(f"{config.backbone} needs images of at least {backbone.min_size} px (got {config.image_size}).")
    problem = backbone.size_problem(config.image_size)  # a transformer's patch size
    if problem:
        raise ValueError(problem)
