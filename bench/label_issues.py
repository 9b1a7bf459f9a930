"""Label-issue finder on the built-in digits with planted label noise, through the product path, for several seeds.

Run: `.venv/bin/python bench/label_issues.py [--fraction 0.05] [--seeds 0 1 2] [--image-size 32] [--weights random]`.
Copies the digits to a throw-away data root, moves `fraction` of the files into a wrong class folder (seeded), then
calls `tlcore.curation.label_issue_report` (exactly what `python -m tlcore label-issues` calls: base features,
cross-validated logistic regression, cleanlab) and prints precision and recall among the top k ranked files for
k = the number moved (and 2k), and of cleanlab's flagged set. Near-duplicates have their own bench
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=0.05)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--backbone", default="MobileNetV2")
    parser.add_argument("--weights", default="random", choices=("random", "imagenet"))
    parser.add_argument("--image-size", type=int, default=32)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="tlstudio-bench-"))
    os.environ["TLSTUDIO_HOME"] = str(base / "home")
    os.environ["TLSTUDIO_DATA_ROOT"] = str(base / "data")

    from tlcore.curation import EmbedConfig, label_issue_report

    for seed in args.seeds:
        name, moved = damaged_digits(base / "data", args.fraction, seed)
        start = time.perf_counter()
        found = label_issue_report(EmbedConfig(name, args.backbone, args.image_size, args.weights, seed=seed))
        seconds = time.perf_counter() - start
        ranked = [issue.path for issue in found.issues]
        flagged = [issue.path for issue in found.issues if issue.flagged]
        k = len(moved)
        line = [f"seed {seed}: {found.images} digits, {k} moved ({args.fraction:.0%}); {found.features}; {seconds:.0f} s"]
        for top in (k, 2 * k):
            precision, recall = precision_recall(ranked, moved, top)
            line.append(f"top {top}: precision {precision:.1%} recall {recall:.1%}")
        precision, recall = precision_recall(flagged, moved, len(flagged))
        line.append(f"cleanlab flagged {len(flagged)}: precision {precision:.1%} recall {recall:.1%}")
        print("; ".join(line), flush=True)
        shutil.rmtree(base / "data" / name, ignore_errors=True)
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
