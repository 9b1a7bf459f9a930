"""The shape of a small CNN of your own (the lab's first step), as plain data; its backbone name spells the shape.

The name is the key the rest of the app looks backbones up by (layer tables, counts, blocks, the probe), so a shape
is a name: "SmallCNN" for the default (three 5×5 convolutions of 32, 64, 128 filters, each max-pooled) and
"SmallCNN-b3-f32-g2-k5-same-max" for any other. The lab's 128-unit dense layer is the head's hidden layer.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

__all__ = ["SMALL_CNN", "SMALL_CNN_PADDINGS", "SMALL_CNN_POOLINGS", "SmallCNNConfig"]

SMALL_CNN = "SmallCNN"
SMALL_CNN_PADDINGS = ("same", "valid")
SMALL_CNN_POOLINGS = ("max", "avg", "none")  # after each convolution, 2×2 stride 2
_NAME = re.compile(rf"{SMALL_CNN}-b(\d+)-f(\d+)-g(\d+)-k(\d+)-(same|valid)-(max|avg|none)")


@dataclass(frozen=True)
class SmallCNNConfig:
    """`blocks` convolutions (ReLU) of `filters`, × `growth` each block, `kernel_size` square, each followed by
    `pooling`; the base scales 0..255 pixels to 0..1 itself (a Rescaling layer), as the lab does."""

    blocks: int = 3
    filters: int = 32
    growth: int = 2
    kernel_size: int = 5
    padding: str = "same"
    pooling: str = "max"

    def block_filters(self) -> list[int]:
        return [self.filters * self.growth ** index for index in range(self.blocks)]

    def backbone_name(self) -> str:
        if self == SmallCNNConfig():
            return SMALL_CNN
        return (f"{SMALL_CNN}-b{self.blocks}-f{self.filters}-g{self.growth}-k{self.kernel_size}-{self.padding}-"
                f"{self.pooling}")

    @classmethod
    def from_name(cls, name: str) -> "SmallCNNConfig | None":
        """The shape a backbone name spells, or None when it is not a small CNN's name."""
        if name == SMALL_CNN:
            return cls()
        match = _NAME.fullmatch(name)
        if not match:
            return None
        blocks, filters, growth, kernel = map(int, match.groups()[:4])
        return cls(blocks, filters, growth, kernel, match.group(5), match.group(6))

    def validate(self) -> None:
        """Raise ValueError with a user-facing message for a shape that cannot be built."""
        if not 1 <= self.blocks <= 8:
            raise ValueError("A small CNN has 1 to 8 convolution blocks.")
        if not 1 <= self.filters <= 1024 or not 1 <= self.growth <= 4 or max(self.block_filters()) > 4096:
            raise ValueError("Filters must be 1–1024, growth 1–4, and no block above 4,096 filters.")
        if not 1 <= self.kernel_size <= 11:
            raise ValueError("The kernel size must be 1 to 11.")
        if self.padding not in SMALL_CNN_PADDINGS or self.pooling not in SMALL_CNN_POOLINGS:
            raise ValueError(f"Padding is one of {SMALL_CNN_PADDINGS}; pooling one of {SMALL_CNN_POOLINGS}.")

    def to_dict(self) -> dict:
        return asdict(self)
