"""Per-layer parameter counts of each backbone's base, so freeze sliders show exact counts without TensorFlow.

Tables ship in `tlcore/backbones/layer_tables_data/` (written by `python -m tlcore.backbones.layer_tables`); a backbone without one is built
once with Keras (random weights: counts do not depend on weights or input size) and cached per Keras version.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tlcore.backbones.registry import REGISTRY, Backbone, names
from tlcore.storage.atomic import write_json_atomic
from tlcore.storage.paths import cache_root

__all__ = ["SHIPPED_DIR", "LayerRow", "LayerTable", "table_for", "measure_layer_table", "table_of"]

SHIPPED_DIR = Path(__file__).parent / "layer_tables_data"


@dataclass(frozen=True)
class LayerRow:
    name: str
    kind: str  # Keras class name
    trainable: int  # parameters trainable when the layer is unfrozen
    non_trainable: int  # always frozen (BatchNorm moving statistics, normalisation constants)


@dataclass(frozen=True)
class LayerTable:
    backbone: str
    feature_dim: int
    layers: list[LayerRow]

    def to_dict(self) -> dict:
        return {"backbone": self.backbone, "feature_dim": self.feature_dim,
                "layers": [[row.name, row.kind, row.trainable, row.non_trainable] for row in self.layers]}

    @classmethod
    def from_dict(cls, data: dict) -> "LayerTable":
        return cls(data["backbone"], int(data["feature_dim"]), [LayerRow(*row) for row in data["layers"]])


@lru_cache(maxsize=None)
def table_for(backbone: Backbone) -> LayerTable:
    """The backbone's layer table: stated by the backbone, shipped, saved with a custom backbone, cached, or else
    measured once."""
    known = backbone.known_layer_table()
    if known is not None:
        return LayerTable.from_dict(known)
    candidates = (SHIPPED_DIR / f"{backbone.name}.json", backbone.layer_table_file,
                  _cached_table_path(backbone))
    for path in candidates:
        if path is not None and path.exists():
            return LayerTable.from_dict(json.loads(path.read_text()))
    table = measure_layer_table(backbone)
    write_json_atomic(_cached_table_path(backbone), table.to_dict())
    return table


def _cached_table_path(backbone: Backbone) -> Path:
    """A measured table is keyed by the Keras version that built it: another Keras may build other layers."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        keras_version = version("keras")
    except PackageNotFoundError:
        keras_version = "unknown"
    return cache_root() / "layer_tables" / f"{backbone.name}-keras{keras_version}.json"


def measure_layer_table(backbone: Backbone) -> LayerTable:
    """Build the base with Keras and read every layer's weights (needs TensorFlow)."""
    return table_of(backbone.build_base(backbone.default_size, weights=None), backbone.name)


def table_of(base, backbone_name: str) -> LayerTable:
    """The layer table of a built, trainable base (a Keras model)."""
    import numpy as np

    rows = []
    for layer in base.layers:
        trainable = int(sum(np.prod(w.shape) for w in layer.trainable_weights))
        frozen = int(sum(np.prod(w.shape) for w in layer.non_trainable_weights))
        rows.append(LayerRow(layer.name, type(layer).__name__, trainable, frozen))
    feature_dim = int(base.output.shape[-1])
    return LayerTable(backbone_name, feature_dim, rows)


def main(argv: list[str]) -> None:
    SHIPPED_DIR.mkdir(exist_ok=True)
    for name in argv or names():
        table = measure_layer_table(REGISTRY[name])
        (SHIPPED_DIR / f"{name}.json").write_text(json.dumps(table.to_dict(), separators=(",", ":")) + "\n")
        print(f"{name}: {len(table.layers)} layers, feature dim {table.feature_dim}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
