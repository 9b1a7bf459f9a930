"""Features + projection time of the embedding map for N images (default 10,000 and 50,000) on this machine.

Run: `.venv/bin/python bench/embedding_speed.py [--counts 10000 50000] [--image-size 32] [--methods umap pca]`.
Writes N 32 px PNGs (the built-in digits, each copy shifted and noised so no two are equal) into a throw-away data
root, then times `tlcore.curation.compute_embeddings` (decode + MobileNetV2 pooled features, random weights: the
time does not depend on the weights; cold cache) and `tlcore.curation.project` for each method, and the near-duplicate
and label-issue passes. Targets: 10k under 2 minutes and 50k under 10 minutes end to end on 2 CPU cores.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--methods", nargs="+", default=["umap", "pca"])
    args = parser.parse_args()
    from tlcore.curation import (
        EmbedConfig,
        compute_embeddings,
        near_duplicates,
        out_of_sample_probabilities,
        outlier_scores,
        project,
    )

    print(f"{os.cpu_count()} CPU cores; load average before: {os.getloadavg()[0]:.1f}")
    for count in args.counts:
        base = Path(tempfile.mkdtemp(prefix="tlstudio-bench-"))
        os.environ["TLSTUDIO_HOME"] = str(base / "home")
        os.environ["TLSTUDIO_DATA_ROOT"] = str(base / "data")
        start = time.perf_counter()
        name = write_images(base / "data", count, args.image_size)
        print(f"{count:,} images written in {time.perf_counter() - start:.0f} s")
        start = time.perf_counter()
        embeddings = compute_embeddings(EmbedConfig(name, "MobileNetV2", args.image_size, "random"))
        features_s = time.perf_counter() - start
        print(f"  features ({embeddings.features.shape[1]} dims): {features_s:.1f} s "
              f"({count / features_s:.0f} images/s)")
        for method in args.methods:
            start = time.perf_counter()
            project(embeddings.features, method)
            print(f"  projection {method}: {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        pairs = near_duplicates(embeddings.paths, embeddings.splits, embeddings.features)
        outlier_scores(embeddings.features)
        print(f"  near-duplicates + outliers: {time.perf_counter() - start:.1f} s ({len(pairs)} pairs)")
        start = time.perf_counter()
        out_of_sample_probabilities(embeddings.features, embeddings.labels, len(embeddings.class_names))
        print(f"  cross-validated probabilities: {time.perf_counter() - start:.1f} s")
        print(f"  load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
