"""A backbone's own stages (blocks) from its layer table, so freezing can be chosen by block as well as by layer index.

No TensorFlow: the shipped layer table gives names, kinds and parameter counts; the registry's `block_pattern` names
the stage each layer belongs to. Layers before the first stage form a "stem" block, layers after the last a "top"
block; a layer the pattern does not name (a pooling or padding layer between stages) belongs to the stage before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from tlcore.backbones import catalog as backbones
from tlcore.backbones.catalog import layer_table
from tlcore.backbones.layer_tables import LayerRow

__all__ = [
    "TUTORIAL_FINE_TUNE_AT", "default_fine_tune_at",
    "STEM", "TOP", "WHOLE_BASE", "Block", "blocks", "block_names", "fine_tune_at_for_block", "block_of_layer",
    "layer_count", "layer_name"
]

STEM = "stem"
TOP = "top"
WHOLE_BASE = "base"  # the one block of a backbone whose pattern names no stage


@dataclass(frozen=True)
class Block:
    """Base layers [first_layer, last_layer] (inclusive). `trainable_params`: those that train when it is unfrozen
    (BatchNorm's gamma and beta included, with pretrained weights too: see `tlcore.modeling.model.set_freeze`)."""

    name: str
    first_layer: int
    last_layer: int
    trainable_params: int
    non_trainable_params: int

    @property
    def layer_count(self) -> int:
        return self.last_layer - self.first_layer + 1

    @property
    def total_params(self) -> int:
        return self.trainable_params + self.non_trainable_params


def _snake_case(class_name: str) -> str:
    """Keras's default layer-name stem for a class (Conv2D → conv2d, BatchNormalization → batch_normalization)."""
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _is_default_name(row: LayerRow) -> bool:
    """Names Keras numbers automatically (activation_335) say nothing about the stage, whatever a pattern matches."""
    return re.fullmatch(rf"{re.escape(_snake_case(row.kind))}(_\d+)?", row.name) is not None


def _stage_labels(backbone_name: str) -> list[str | None]:
    """The stage each layer starts or continues, None where its name does not say; a stage name is used once."""
    backbone = backbones.get(backbone_name)
    labels: list[str | None] = []
    seen: set[str] = set()
    current = None
    for row in layer_table(backbone_name).layers:
        label = None if _is_default_name(row) else backbone.block_of(row.name)
        if label is not None and label.isdigit():
            label = f"block_{label}"  # patterns that capture only a number (MobileNet, ConvNeXt, NASNet)
        if label is not None and label != current and label in seen:
            label = None  # a stage name met again later would make two blocks of one name
        if label is not None:
            seen.add(label)
            current = label
        labels.append(label)
    return labels


@lru_cache(maxsize=None)
def _blocks(backbone_name: str) -> tuple[Block, ...]:
    rows = layer_table(backbone_name).layers
    labels = _stage_labels(backbone_name)
    named = [index for index, label in enumerate(labels) if label is not None]
    if not named:
        return (_block_of_rows(WHOLE_BASE, rows, 0, len(rows) - 1),)
    last_named = named[-1]
    spans: list[tuple[str, int, int]] = []  # name, first, last
    for index, label in enumerate(labels):
        if index > last_named:
            name = TOP
        elif label is not None:
            name = label
        else:
            name = spans[-1][0] if spans else STEM
        if spans and spans[-1][0] == name:
            spans[-1] = (name, spans[-1][1], index)
        else:
            spans.append((name, index, index))
    return tuple(_block_of_rows(name, rows, first, last) for name, first, last in spans)


def _block_of_rows(name: str, rows: list[LayerRow], first: int, last: int) -> Block:
    layers = rows[first:last + 1]
    trainable = sum(row.trainable for row in layers)
    return Block(name, first, last, trainable, sum(row.non_trainable for row in layers))


def blocks(backbone_name: str) -> list[Block]:
    """The base's blocks in network order, covering every layer once."""
    return list(_blocks(backbone_name))


def block_names(backbone_name: str) -> list[str]:
    return [block.name for block in _blocks(backbone_name)]


def _block(backbone_name: str, block_name: str) -> Block:
    for block in _blocks(backbone_name):
        if block.name == block_name:
            return block
    raise ValueError(f"{backbone_name} has no block '{block_name}'. Blocks: {', '.join(block_names(backbone_name))}")


def fine_tune_at_for_block(backbone_name: str, block_name: str) -> int:
    """First layer index of the block: freezing everything before it trains this block and all after it."""
    return _block(backbone_name, block_name).first_layer


def block_of_layer(backbone_name: str, index: int) -> str:
    """The block holding base layer `index`; an index past the last layer (nothing trains) gives the top block."""
    all_blocks = _blocks(backbone_name)
    if index < 0:
        raise ValueError(f"Layer index must be at least 0 (got {index}).")
    for block in all_blocks:
        if block.first_layer <= index <= block.last_layer:
            return block.name
    return all_blocks[-1].name


def layer_count(backbone_name: str) -> int:
    return len(layer_table(backbone_name).layers)


def layer_name(backbone_name: str, index: int) -> str:
    return layer_table(backbone_name).layers[index].name


# The layer the TensorFlow transfer-learning tutorial fine-tunes from ("Fine-tune from this layer onwards:
# fine_tune_at = 100", tensorflow.org/tutorials/images/transfer_learning); other backbones: the top third.
TUTORIAL_FINE_TUNE_AT = {"MobileNetV2": 100}


def default_fine_tune_at(backbone_name: str) -> int:
    """The Fine-tune page's default first trainable layer: the tutorial's where it names one, else two thirds up."""
    layer_count = len(layer_table(backbone_name).layers)
    known = TUTORIAL_FINE_TUNE_AT.get(backbone_name)
    return known if known is not None and known < layer_count else (layer_count * 2) // 3
