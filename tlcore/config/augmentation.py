"""Augmentation settings as data: which Keras preprocessing layers training uses, and how strongly.

The layers themselves are built by `tlcore.datasets.augmentation_layers`; this module stays a leaf.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from tlcore.config.checks import ConfigError, one_of, problems_of, real_number

__all__ = ["FLIP_MODES", "AugmentConfig"]


FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical", "none")


_STRENGTHS = ("rotation", "zoom", "translation", "contrast", "brightness", "crop")
_RULES = {"flip": one_of(*FLIP_MODES), **{name: real_number(0, 1, below_high=True) for name in _STRENGTHS}}


@dataclass
class AugmentConfig:
    """Strengths are fractions as the Keras layers take them (rotation 0.1 = ±10% of a full turn = ±36°).

    Fields added after the first release default to 0 (off), so older config.json files load unchanged.
    """

    flip: str = "horizontal"  # "horizontal", "vertical", "horizontal_and_vertical" or "none"
    rotation: float = 0.1
    zoom: float = 0.1
    translation: float = 0.0  # shift up to this fraction of height and width
    contrast: float = 0.0  # contrast factor range 1 ± contrast
    brightness: float = 0.0  # add up to ± this fraction of the 0..255 range
    crop: float = 0.0  # cut up to this fraction off the image, then resize back to the model's input size

    def __post_init__(self) -> None:
        problems = problems_of(vars(self), _RULES)
        if problems:
            raise ConfigError(problems, "augmentation")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "AugmentConfig":
        """Unknown keys are ignored so a config written by a newer version still loads."""
        if not isinstance(data, dict):
            raise ConfigError([f"must be an object (got {type(data).__name__})"], "augmentation")
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})

    def describe(self) -> str:
        parts = [f"flip {self.flip}"] if self.flip != "none" else []
        parts += [f"{name} {getattr(self, name):g}" for name in
                  ("rotation", "zoom", "translation", "contrast", "brightness", "crop") if getattr(self, name) > 0]
        return ", ".join(parts) or "none"
