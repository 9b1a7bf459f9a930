"""Features + projection time of the embedding map for N images (default 10,000 and 50,000) on this machine.

Run: `.venv/bin/python bench/embedding_speed.py [--counts 10000 50000] [--extract 10000] [--methods umap pca]
[--old-path] [--regression]`. Two parts, each printing wall and CPU seconds:
- extraction, on real images: writes N 32 px PNGs (the built-in digits, each copy shifted and noised so no two are
  equal) into a throw-away data root and times `tlcore.curation.compute_embeddings` (decode + MobileNetV2 pooled
  features, random weights: the time does not depend on the weights; cold cache);
- everything after it, on SYNTHETIC 1,280-dim features (clustered, non-negative, with 100 planted near-copies across
  splits, whose recall is printed): `project` for each method, the near-duplicate + outlier search (and with
  `--old-path` the two separate searches of before, side by side) and with `--regression` the
  cross-validated regression.
Targets: 10k under 2 minutes and 50k under 10 minutes end to end on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def write_images(root: Path, count: int, size: int) -> str:
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(0)
    name = f"speed-{count}"
    for label in range(10):
        (root / name / str(label)).mkdir(parents=True, exist_ok=True)
    for index in range(count):
        source = index % len(digits.images)
        grey = 255 - np.round(digits.images[source] / 16 * 255)
        image = Image.fromarray(grey.astype(np.uint8)).resize((size, size), Image.BILINEAR)
        pixels = np.asarray(image, dtype=np.int16) + rng.integers(-12, 13, (size, size))
        pixels = np.roll(pixels, rng.integers(-2, 3, 2), axis=(0, 1))
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(
            root / name / str(digits.target[source]) / f"img_{index:06d}.png")
    return name


def synthetic_features(count: int, dims: int = 1280, planted: int = 100, seed: int = 0):
    """Features shaped like pooled CNN features (non-negative, 10 clusters, a few hundred active directions), with
    `planted` near-copies (tiny noise) of train images placed in the test split: what the search must find."""
    rng = np.random.default_rng(seed)
    centres = np.maximum(rng.normal(0, 1, (10, dims)), 0) * rng.random(dims)
    labels = rng.integers(0, 10, count)
    features = np.maximum(centres[labels] + rng.normal(0, 0.6, (count, dims)) * rng.random(dims), 0)
    splits = rng.choice(["train", "val", "test"], count, p=[0.7, 0.15, 0.15]).tolist()
    originals = rng.choice(np.flatnonzero(np.array(splits) == "train"), planted, replace=False)
    copies = rng.choice(np.setdiff1d(np.arange(count), originals), planted, replace=False)
    features[copies] = features[originals] * (1 + rng.normal(0, 0.01, (planted, dims)))
    for index in copies:
        splits[index] = "test"
    paths = [f"img_{index:06d}.png" for index in range(count)]
    expected = {tuple(sorted((paths[a], paths[b]))) for a, b in zip(originals, copies)}
    return features.astype(np.float32), labels, splits, paths, expected


def timed(what: str, call):
    """Run `call()`, print its wall and CPU seconds (CPU time of this process: less disturbed by other load)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"  {what}: wall {wall:.1f} s, CPU {cpu:.1f} s", flush=True)
    return result, wall, cpu


def extraction(counts: list[int], size: int) -> None:
    """Decode + MobileNetV2 pooled features of real PNGs written for the run (random weights, cold cache)."""
    from tlcore.curation import EmbedConfig, compute_embeddings

    for count in counts:
        base = Path(tempfile.mkdtemp(prefix="tlstudio-bench-"))
        os.environ["TLSTUDIO_HOME"] = str(base / "home")
        os.environ["TLSTUDIO_DATA_ROOT"] = str(base / "data")
        name = write_images(base / "data", count, size)
        print(f"{count:,} real {size} px images (features extracted)", flush=True)
        _, wall, _ = timed("features (decode + MobileNetV2, 1,280 dims)",
                           lambda: compute_embeddings(EmbedConfig(name, "MobileNetV2", size, "random")))
        print(f"  = {count / wall:.0f} images/s")


def search_and_projection(counts: list[int], methods: list[str], old_path: bool, regression: bool) -> None:
    """Projection, near-duplicates + outliers and the cross-validated regression on synthetic 1,280-dim features."""
    from tlcore.curation import (
        near_duplicates,
        nearest_neighbours,
        out_of_sample_probabilities,
        outlier_scores,
        project,
    )

    for count in counts:
        features, labels, splits, paths, expected = synthetic_features(count)
        print(f"{count:,} synthetic 1,280-dim feature vectors ({len(expected)} near-copies planted across splits)",
              flush=True)
        for method in methods:
            timed(f"projection {method}", lambda: project(features, method))

        def shared():
            neighbours = nearest_neighbours(features)
            return near_duplicates(paths, splits, neighbours=neighbours), outlier_scores(neighbours=neighbours)

        (pairs, _), wall, cpu = timed("near-duplicates + outliers (one shared search)", shared)
        found = expected & {(pair.a, pair.b) for pair in pairs if pair.leakage}
        print(f"  planted copies found as leakage: {len(found)}/{len(expected)}; {len(pairs)} pairs in all")
        if old_path:  # as before this round: each of the two searched (and reduced) on its own
            _, old_wall, old_cpu = timed("near-duplicates + outliers (two searches, as before)",
                                         lambda: (near_duplicates(paths, splits, features), outlier_scores(features)))
            print(f"  ratio before/now: wall {old_wall / wall:.2f}x, CPU {old_cpu / cpu:.2f}x")
        if regression:
            timed("cross-validated probabilities (5 folds)",
                  lambda: out_of_sample_probabilities(features, labels, 10))
        print(f"  load average now: {os.getloadavg()[0]:.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[10_000, 50_000],
                        help="sizes for projection, search and regression (synthetic features)")
    parser.add_argument("--extract", type=int, nargs="*", default=[10_000],
                        help="sizes for feature extraction on real images (none: skip)")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--methods", nargs="+", default=["umap", "pca"])
    parser.add_argument("--old-path", action="store_true", help="also time the two separate searches of before")
    parser.add_argument("--regression", action="store_true", help="also time the cross-validated regression")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPU cores; load average before: {os.getloadavg()[0]:.1f}", flush=True)
    if args.extract:
        extraction(args.extract, args.image_size)
    search_and_projection(args.counts, args.methods, args.old_path, args.regression)


if __name__ == "__main__":
    main()
