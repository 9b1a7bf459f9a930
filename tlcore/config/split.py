"""How a dataset is split into train / validation / test: fractions and the seed, stored with the dataset and the run."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SplitConfig"]


@dataclass(frozen=True)
class SplitConfig:
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    seed: int = 42
