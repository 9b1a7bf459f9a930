"""Run configurations as plain dataclasses with a JSON round-trip; imports nothing else from tlcore."""

from tlcore.config.augmentation import AugmentConfig, FLIP_MODES
from tlcore.config.split import SplitConfig
from tlcore.config.training import GradualUnfreezing, TrainConfig, WEIGHTS_IMAGENET, WEIGHTS_RANDOM

__all__ = [
    "AugmentConfig",
    "FLIP_MODES",
    "SplitConfig",
    "GradualUnfreezing",
    "TrainConfig",
    "WEIGHTS_IMAGENET",
    "WEIGHTS_RANDOM",
]
