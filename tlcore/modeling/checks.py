"""Checks of a TrainConfig that need the backbone catalog, run where a job is submitted (config itself stays a leaf)."""

from __future__ import annotations

from tlcore.backbones.catalog import get
from tlcore.backbones.weights import imagenet_problem
from tlcore.config.training import WEIGHTS_IMAGENET, TrainConfig

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
    if config.weights == WEIGHTS_IMAGENET and not config.is_fine_tune and backbone.has_pretrained_weights \
            and backbone.own_weights_file is None:
        problem = imagenet_problem(backbone, config.image_size, probe_network=True)  # e.g. a KerasHub preset offline
        if problem:
            raise ValueError(problem)
