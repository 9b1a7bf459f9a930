"""How a dataset is split into train / validation / test: fractions and the seed, stored with the dataset and the run."""

from __future__ import annotations

from dataclasses import dataclass

from tlcore.config.checks import ConfigError, problems_of, real_number, whole_number

__all__ = ["SplitConfig"]

_RULES = {"val_fraction": real_number(0, 1, below_high=True), "test_fraction": real_number(0, 1, below_high=True),
          "seed": whole_number(0, 2**32 - 1)}


@dataclass(frozen=True)
class SplitConfig:
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    seed: int = 42

    def __post_init__(self) -> None:
        problems = problems_of(vars(self), _RULES)
        if not problems and self.val_fraction + self.test_fraction >= 1:
            problems.append("fractions leave nothing to train on (validation + test must be below 1)")
        if problems:
            raise ConfigError(problems, "split")
