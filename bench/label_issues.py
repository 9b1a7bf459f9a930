"""Label-issue finder on the built-in digits with planted label noise, through the product path, for several seeds.

Run: `.venv/bin/python bench/label_issues.py [--fraction 0.05] [--seeds 0 1 2] [--image-size 32] [--weights random]
[--run [--epochs 5]]`. Copies the digits to a throw-away data root, moves `fraction` of the files into a wrong class
folder (seeded), then runs the CLI command in this process (`tlcore.cli.main`, its JSON output):
`python -m tlcore label-issues DATASET --weights W --image-size N --top 2k --json` (base features, cross-validated
logistic regression, cleanlab), or with `--run` first trains a run on the damaged digits through the worker
(`create_run` + `run_job`, MobileNetV2 at `--image-size`, frozen base, `--weights`) and then runs
`python -m tlcore label-issues DATASET --run RUN --top 2k --json`. Prints precision and recall among the top k ranked
files for k = the number moved (and 2k), and which source scored how many images. Near-duplicates have their own bench
(bench/near_duplicates.py).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def damaged_digits(data_root: Path, fraction: float, seed: int = 0) -> tuple[str, set[str]]:
    """A copy of the digits with `fraction` of its files moved to a wrong class: (dataset name, moved paths now)."""
    from tlcore.datasets.sample import sample_dataset_path

    source = sample_dataset_path()
    target = data_root / f"damaged-digits-{seed}"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".complete"))
    files = sorted(str(p.relative_to(target)) for p in target.glob("*/*.png"))
    rng = np.random.default_rng(seed)
    moved = set()
    for index in rng.choice(len(files), int(round(fraction * len(files))), replace=False):
        old = files[index]
        label = old.split("/")[0]
        wrong = str(rng.choice([str(n) for n in range(10) if str(n) != label]))
        new = f"{wrong}/{Path(old).name}"
        os.rename(target / old, target / new)
        moved.add(new)
    return target.name, moved


def precision_recall(ranked: list[str], truth: set[str], k: int) -> tuple[float, float]:
    hits = len(set(ranked[:k]) & truth)
    return hits / max(k, 1), hits / max(len(truth), 1)


def train_run(dataset: str, image_size: int, weights: str, epochs: int, seed: int) -> str:
    """A run trained on the damaged digits (their wrong labels included) through the worker, as the app trains."""
    from tlcore.config.training import TrainConfig
    from tlcore.runs.folders import FINISHED, create_run
    from tlcore.worker import run_job

    config = TrainConfig(dataset=dataset, backbone="MobileNetV2", image_size=image_size, epochs=epochs,
                         batch_size=32, learning_rate=1e-2, fine_tune_at=None, weights=weights)
    run = create_run(config)
    state = run_job(run, wait=False)
    if state != FINISHED:
        raise SystemExit(f"training {run.id} ended {state}: {run.status().get('error')}")
    return run.id


def label_issues_cli(arguments: list[str]) -> dict:
    """`python -m tlcore label-issues ARGUMENTS --json`, run in this process: its JSON answer."""
    import contextlib
    import io
    import json

    from tlcore.cli import main as cli

    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(io.StringIO()):
        code = cli(["label-issues", *arguments, "--json"])
    if code != 0:
        raise SystemExit(f"label-issues exited with {code}")
    return json.loads(output.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=0.05)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--weights", default="random", choices=("random", "imagenet"))
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--run", action="store_true", help="train a run on the damaged digits and use --run")
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="tlstudio-bench-"))
    os.environ["TLSTUDIO_HOME"] = str(base / "home")
    os.environ["TLSTUDIO_DATA_ROOT"] = str(base / "data")

    for seed in args.seeds:
        name, moved = damaged_digits(base / "data", args.fraction, seed)
        k = len(moved)
        start = time.perf_counter()
        trained = ""
        if args.run:
            run_id = train_run(name, args.image_size, args.weights, args.epochs, seed)
            from tlcore.runs.folders import get_run

            trained = f"run {run_id} (test accuracy {get_run(run_id).status().get('test_accuracy', 0):.1%}); "
            found = label_issues_cli([name, "--run", run_id, "--top", str(2 * k)])
        else:
            found = label_issues_cli([name, "--weights", args.weights, "--image-size", str(args.image_size),
                                      "--top", str(2 * k)])
        seconds = time.perf_counter() - start
        ranked = [issue["path"] for issue in found["issues"]]
        line = [f"seed {seed}: {found['images']} digits, {k} moved ({args.fraction:.0%}); {trained}"
                f"{found['features']}; probabilities {found['probabilities']}; {seconds:.0f} s"]
        for top in (k, 2 * k):
            precision, recall = precision_recall(ranked, moved, top)
            line.append(f"top {top}: precision {precision:.1%} recall {recall:.1%}")
        line.append(f"cleanlab flagged {found['flagged']}")
        print("; ".join(line), flush=True)
        shutil.rmtree(base / "data" / name, ignore_errors=True)
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
