"""Run configurations as plain dataclasses with a JSON round-trip; imports nothing else from tlcore."""

from tlcore.config.augmentation import FLIP_MODES, AugmentConfig
from tlcore.config.checks import ConfigError
from tlcore.config.small_cnn import SMALL_CNN_PADDINGS, SMALL_CNN_POOLINGS, SmallCNNConfig
from tlcore.config.split import SplitConfig
from tlcore.config.training import LIMITS, WEIGHTS_IMAGENET, WEIGHTS_RANDOM, GradualUnfreezing, TrainConfig, load_config

__all__ = [
    "ConfigError",
    "LIMITS",
    "load_config",
    "AugmentConfig",
    "FLIP_MODES",
    "SplitConfig",
    "SmallCNNConfig",
    "SMALL_CNN_PADDINGS",
    "SMALL_CNN_POOLINGS",
    "GradualUnfreezing",
    "TrainConfig",
    "WEIGHTS_IMAGENET",
    "WEIGHTS_RANDOM",
]
