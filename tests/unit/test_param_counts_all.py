"""Every registered backbone at its default size: the counts the Train page shows (layer table, no TensorFlow) equal
what Keras reports for the built model, half the base unfrozen with pretrained weights (BatchNorm kept frozen).

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

REPO = Path(__file__).resolve().parents[2]
CLASSES = 10


def _batches() -> list[list[str]]:
    """About equal build cost per batch (the cost grows with the parameter count)."""
    from tlcore import backbones

    names = sorted(backbones.names(), key=lambda n: backbones.get(n).published.parameters_m or 10.0)
    return [names[i::4] for i in range(4)]


@pytest.mark.parametrize("batch", range(4))
def test_count_params_equals_keras_for_every_backbone_at_its_default_size(batch):
    names = _batches()[batch]
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run([sys.executable, __file__, *names], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=900)

    assert done.returncode == 0, done.stderr[-3000:]
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert [r["name"] for r in results] == names
    mismatched = {r["name"]: (r["keras"], r["table"]) for r in results if r["keras"] != r["table"]}
    assert not mismatched


def _child(names: list[str]) -> None:
    import gc
    from dataclasses import astuple

    import keras

    from tlcore import backbones
    from tlcore.config import TrainConfig
    from tlcore.layer_tables import layer_table
    from tlcore.model import build_model, count_params, keras_param_counts

    for name in names:
        started = time.perf_counter()
        backbone = backbones.get(name)
        fine_tune_at = len(layer_table(name).layers) // 2
        config = TrainConfig(dataset="", backbone=name, image_size=backbone.default_size, fine_tune_at=fine_tune_at,
                             weights="imagenet")
        model = build_model(config, CLASSES, load_weights=False)
        print(json.dumps({"name": name, "keras": astuple(keras_param_counts(model)),
                          "table": astuple(count_params(name, CLASSES, fine_tune_at, pretrained=True)),
                          "seconds": round(time.perf_counter() - started, 2)}), flush=True)
        del model
        keras.backend.clear_session()
        gc.collect()


if __name__ == "__main__":
    _child(sys.argv[1:])
