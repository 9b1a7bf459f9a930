""""Not sure" coverage: over many re-splits of data with known calibration, how often the accepted accuracy on the
held-out part reaches the target, for the old rule (validation accuracy ≥ target) and the Clopper–Pearson bound.

Run: `.venv/bin/python bench/not_sure_coverage.py [--resplits 200] [--target 0.95]`. Pure numpy/scipy, seconds.
Synthetic top-1 confidences 0.5 + 0.5·Beta(5, 0.8), each answer right with exactly that probability (perfectly
calibrated, as temperature scaling aims for); a pool of 4,400 re-split into validation (where the threshold is
chosen) and 4,000 held-out images, for several validation sizes. Prints, per rule and size: the share of re-splits
whose held-out accepted accuracy reaches the target, its 5th/50th/95th percentiles, how often the rule claims the
target is met, and the median coverage (share answered) on held-out images.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tlcore.evaluation.reject import answered_at, choose_threshold  # noqa: E402

HELD_OUT = 4000
VALIDATION_SIZES = (24, 60, 150, 400, 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resplits", type=int, default=200)
    parser.add_argument("--target", type=float, default=0.95)
    parser.add_argument("--seed", type=int, default=24)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    pool = HELD_OUT + max(VALIDATION_SIZES)
    confidence = 0.5 + 0.5 * rng.beta(5.0, 0.8, pool)
    correct = rng.random(pool) < confidence
    print(f"target {args.target:.0%}, {args.resplits} re-splits, {HELD_OUT} held-out images, seed {args.seed}")
    print(f"{'rule':<22}{'validation':>11}{'held-out ≥ target':>19}{'p5':>8}{'p50':>8}{'p95':>8}"
          f"{'claims met':>12}{'coverage p50':>14}")
    for size in VALIDATION_SIZES:
        for rule, level in (("old: accuracy ≥ target", None), ("Clopper–Pearson 95 %", 0.95)):
            accuracies, met, coverage = [], [], []
            for _ in range(args.resplits):
                order = rng.permutation(pool)
                fit, held = order[:size], order[size:size + HELD_OUT]
                chosen = choose_threshold(confidence[fit], correct[fit], args.target, level=level)
                reached = answered_at(confidence[held], correct[held], chosen["threshold"])
                accuracies.append(reached["accuracy"] if reached["answered"] else 1.0)
                met.append(chosen["met"])
                coverage.append(reached["coverage"])
            accuracies = np.asarray(accuracies)
            p5, p50, p95 = np.percentile(accuracies, [5, 50, 95])
            print(f"{rule:<22}{size:>11}{(accuracies >= args.target).mean():>19.1%}{p5:>8.3f}{p50:>8.3f}{p95:>8.3f}"
                  f"{np.mean(met):>12.1%}{np.median(coverage):>14.1%}")


if __name__ == "__main__":
    main()
