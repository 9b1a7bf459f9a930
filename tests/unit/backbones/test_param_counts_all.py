"""Every registered backbone at its default size: the counts the Train page shows (layer table, no TensorFlow) equal
what Keras reports for the built model (via `python -m tlcore summary`, so the CLI works for every backbone), half the
base unfrozen with pretrained weights (BatchNorm kept frozen).

Models are built in child processes, a batch each, so the memory of the largest bases is given back between batches.
Run as a script (`python tests/unit/test_param_counts_all.py NAME...`) it is that child: one JSON line per backbone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
CLASSES = 10
# tests/unit/test_model.py already compares these families' cheapest backbone with Keras, at every freeze depth
COVERED_BY_TEST_MODEL = ("MobileNetV2", "ResNet50", "VGG16", "EfficientNetB0")


def _cost(name: str) -> float:
    from tlcore.backbones import catalog

    return catalog.get(name).published.parameters_m or 5.0  # MobileNetV3 has no published figures; it is small


def representatives() -> list[str]:
    """The cheapest backbone of each family: every family's layer kinds and BatchNorm placement."""
    from tlcore.backbones import catalog, registry

    cheapest: dict[str, str] = {}
    for name in sorted(registry.names(), key=_cost):
        cheapest.setdefault(catalog.get(name).family, name)
    return list(cheapest.values())


def _in_batches(names: list[str], count: int = 4) -> list[list[str]]:
    ordered = sorted(names, key=_cost)
    return [ordered[i::count] for i in range(count)]


def _check_in_child(names: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run([sys.executable, __file__, *names], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=1800)

    assert done.returncode == 0, done.stderr[-3000:]
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert [r["name"] for r in results] == names
    mismatched = {r["name"]: (r["keras"], r["table"]) for r in results if r["keras"] != r["table"]}
    assert not mismatched


def test_one_backbone_of_every_family_counts_as_keras_does():
    names = [name for name in representatives() if name not in COVERED_BY_TEST_MODEL]

    assert len(names) + len(COVERED_BY_TEST_MODEL) == 12  # every family of the registry, in CI
    _check_in_child(names)


@pytest.mark.slow  # all 40 take about 4–6 minutes on 2 busy cores; CI checks one backbone per family (above)
@pytest.mark.parametrize("batch", range(4))
def test_every_backbone_counts_as_keras_does(batch):
    from tlcore.backbones import registry

    _check_in_child(_in_batches(registry.names())[batch])


def _child(names: list[str]) -> None:
    """Keras' counts through `python -m tlcore summary` (which builds the model at the default size without
    downloading anything), beside the layer-table counts the Train page shows."""
    import contextlib
    import gc
    import io
    from dataclasses import astuple

    import keras

    from tlcore import cli
    from tlcore.backbones.catalog import layer_table
    from tlcore.modeling.model import count_params

    for name in names:
        started = time.perf_counter()
        fine_tune_at = len(layer_table(name).layers) // 2
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            code = cli.main(["summary", "--backbone", name, "--classes", str(CLASSES), "--fine-tune-at",
                             str(fine_tune_at), "--json"])
        summary = json.loads(printed.getvalue()) if code == 0 else {}
        print(json.dumps({"name": name, "keras": [summary.get(k) for k in ("total", "trainable", "non_trainable")],
                          "table": list(astuple(count_params(name, CLASSES, fine_tune_at, pretrained=True))),
                          "seconds": round(time.perf_counter() - started, 2)}), flush=True)
        keras.backend.clear_session()
        gc.collect()


if __name__ == "__main__":
    _child(sys.argv[1:])
