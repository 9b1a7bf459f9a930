"""Every registered backbone (all 40): its shipped layer table equals what Keras builds, layer by layer, and the counts
the Train page shows (layer table, no TensorFlow) equal what Keras reports for the whole model with ImageNet weights,
half the base unfrozen.

Fast enough for every CI run: each base is built once, at its minimum input size, with random weights (nothing is
downloaded), in two child processes that share the backbones by size (CI runs the tests one at a time, so the second
core is free); the memory of the largest bases is given back when they end. Parameter counts do not depend on the
input size: the shipped tables were measured at each backbone's default size, so the layer-by-layer comparison below
is that claim checked for every backbone.
Run as a script (`python tests/unit/backbones/test_param_counts_all.py NAME...`) it is that child: one JSON line per
backbone.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
CLASSES = 10
CHILDREN = 2


def _in_batches(names: list[str], count: int) -> list[list[str]]:
    """Backbones shared so each batch builds about as many parameters (published figures; MobileNetV3 has none)."""
    from tlcore.backbones import catalog

    def cost(name: str) -> float:
        return catalog.get(name).published.parameters_m or 5.0

    batches: list[list[str]] = [[] for _ in range(count)]
    for name in sorted(names, key=cost, reverse=True):
        min(batches, key=lambda batch: sum(map(cost, batch))).append(name)
    return batches


def test_every_backbone_table_and_counts_equal_keras(tmp_path):
    from tlcore.backbones import registry

    names = registry.names()
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_HOME": str(tmp_path)}
    children = [subprocess.Popen([sys.executable, __file__, *batch], cwd=REPO, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for batch in _in_batches(names, CHILDREN)]
    results = []
    for child in children:
        out, err = child.communicate(timeout=1200)
        assert child.returncode == 0, err[-3000:]
        results += [json.loads(line) for line in out.splitlines() if line.startswith("{")]

    print("seconds per backbone:", {r["name"]: r["seconds"] for r in results})
    assert sorted(r["name"] for r in results) == sorted(names) and len(names) == 40
    assert [r["name"] for r in results if not r["table_matches"]] == []
    assert {r["name"]: (r["keras"], r["table"]) for r in results if r["keras"] != r["table"]} == {}


def _keras_default_name(kind: str) -> str:
    """Keras names an unnamed layer after its class in snake case ("Conv2D" → "conv2d"), plus "_N" per process."""
    intermediate = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", kind)
    return re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()


def comparable(table) -> tuple:
    """Rows with Keras' auto-numbered names (input_layer_7, conv2d_12) masked: the number depends on what the
    process built before, so it differs between any two builds; explicit names, kinds and counts must match."""
    rows = []
    for row in table.layers:
        auto = re.fullmatch(rf"{re.escape(_keras_default_name(row.kind))}(_\d+)?", row.name)
        rows.append((f"<auto {row.kind}>" if auto else row.name, row.kind, row.trainable, row.non_trainable))
    return table.backbone, table.feature_dim, rows


def _child(names: list[str]) -> None:
    """For each backbone: the model `build_model` makes with ImageNet weights (not loaded), at the minimum size.
    Its base's layer table (every layer unfrozen) against the shipped one, and Keras' counts with the base frozen
    below its middle layer against `count_params`."""
    import gc
    from dataclasses import astuple

    import keras

    from tlcore.backbones import catalog
    from tlcore.backbones.layer_tables import table_of
    from tlcore.config.training import TrainConfig
    from tlcore.modeling.model import base_of, build_model, count_params, keras_param_counts, set_freeze

    for name in names:
        started = time.perf_counter()
        backbone, shipped = catalog.get(name), catalog.layer_table(name)
        fine_tune_at = len(shipped.layers) // 2
        config = TrainConfig(dataset="", backbone=name, image_size=backbone.min_size, weights="imagenet",
                             fine_tune_at=fine_tune_at)
        model = build_model(config, CLASSES, load_weights=False)
        keras_counts = list(astuple(keras_param_counts(model)))
        base = base_of(model)
        set_freeze(base, 0)
        measured = table_of(base, name)
        print(json.dumps({"name": name, "table_matches": comparable(measured) == comparable(shipped),
                          "keras": keras_counts, "table": list(astuple(count_params(name, CLASSES, fine_tune_at))),
                          "seconds": round(time.perf_counter() - started, 2)}), flush=True)
        del model, base
        keras.backend.clear_session()
        gc.collect()


if __name__ == "__main__":
    _child(sys.argv[1:])
