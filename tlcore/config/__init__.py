"""Run configurations as plain dataclasses with a JSON round-trip; imports nothing else from tlcore."""

from tlcore.config.augmentation import FLIP_MODES, AugmentConfig
from tlcore.config.split import SplitConfig
from tlcore.config.training import WEIGHTS_IMAGENET, WEIGHTS_RANDOM, GradualUnfreezing, TrainConfig

__all__ = [
    "AugmentConfig",
    "FLIP_MODES",
    "SplitConfig",
    "GradualUnfreezing",
    "TrainConfig",
    "WEIGHTS_IMAGENET",
    "WEIGHTS_RANDOM",
]
