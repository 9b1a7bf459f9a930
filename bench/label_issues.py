"""Label-issue finder and near-duplicate search on the built-in digits with known damage, measured in one run.

Run: `.venv/bin/python bench/label_issues.py [--fraction 0.05] [--features pixels|VGG16] [--image-size 32]`.
Copies the digits to a throw-away data root, moves `fraction` of the files into a wrong class folder (seeded), finds
label issues (cross-validated logistic regression on the features → cleanlab) and prints precision and recall among
the top k ranked files for k = the number moved (and 2k), and of cleanlab's flagged set. Then copies 20 images,
resized (8 → 12 px) and re-encoded as JPEG, as test-split files and reports how
many of those pairs the near-duplicate search finds as leakage (on 32 px pixel features). `pixels` uses the images themselves (8×8 digits
upscaled) as features; a backbone name uses `tlcore.curation.compute_embeddings` with random weights (offline box).
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
    target = data_root / "damaged-digits"
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


def pixel_features(root: Path, paths: list[str], size: int = 8) -> np.ndarray:
    from tlcore.datasets.images import load_array

    return np.stack([load_array(root / path, size)[..., 0].ravel() for path in paths]).astype(np.float32)


def precision_recall(ranked: list[str], truth: set[str], k: int) -> tuple[float, float]:
    hits = len(set(ranked[:k]) & truth)
    return hits / max(k, 1), hits / max(len(truth), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=0.05)
    parser.add_argument("--features", default="pixels", help="pixels, or a backbone name (random weights)")
    parser.add_argument("--image-size", type=int, default=32)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="tlstudio-bench-"))
    os.environ["TLSTUDIO_HOME"] = str(base / "home")
    os.environ["TLSTUDIO_DATA_ROOT"] = str(base / "data")

    from tlcore.curation import (
        EmbedConfig,
        compute_embeddings,
        near_duplicates,
        out_of_sample_probabilities,
        rank_label_issues,
    )
    from tlcore.datasets import scan_folder

    name, moved = damaged_digits(base / "data", args.fraction)
    start = time.perf_counter()
    if args.features == "pixels":
        scan = scan_folder(name)
        paths = [path for path, _ in scan.files]
        labels = np.asarray([label for _, label in scan.files])
        features, class_names = pixel_features(scan.root, paths), scan.class_names
    else:
        embeddings = compute_embeddings(EmbedConfig(name, args.features, args.image_size, "random"))
        paths, labels, features = embeddings.paths, embeddings.labels, embeddings.features
        class_names = embeddings.class_names
    features_s = time.perf_counter() - start
    start = time.perf_counter()
    probabilities = out_of_sample_probabilities(features, labels, len(class_names))
    issues = rank_label_issues(paths, labels, probabilities, class_names)
    find_s = time.perf_counter() - start
    ranked = [issue.path for issue in issues]
    flagged = [issue.path for issue in issues if issue.flagged]
    k = len(moved)
    print(f"{len(paths)} digits, {k} moved to a wrong class ({args.fraction:.0%}); features: {args.features} "
          f"({features.shape[1]} dims, {features_s:.1f} s); cross-validated LR + cleanlab {find_s:.1f} s")
    for top in (k, 2 * k):
        precision, recall = precision_recall(ranked, moved, top)
        print(f"  top {top:4d}: precision {precision:.1%}  recall {recall:.1%}")
    precision, recall = precision_recall(flagged, moved, len(flagged))
    print(f"  cleanlab flagged {len(flagged)}: precision {precision:.1%}  recall {recall:.1%}")

    # near-duplicates: 20 train images copied resized (×1.5) and re-encoded as JPEG into "test"
    from PIL import Image

    rng = np.random.default_rng(1)
    picks = rng.choice(len(paths), 20, replace=False)
    copies = []
    root = base / "data" / name
    for index in picks:
        image = Image.open(root / paths[index]).convert("L")
        copy = image.resize((12, 12), Image.BICUBIC)
        new = f"{paths[index].split('/')[0]}/copy_{index}.jpg"
        copy.save(root / new, quality=85)
        copies.append((paths[index], new))
    all_paths = paths + [new for _, new in copies]
    all_splits = ["train"] * len(paths) + ["test"] * len(copies)
    all_features = pixel_features(root, all_paths, 32)  # upscaled pixels: what a copy shares with its original
    start = time.perf_counter()
    pairs = near_duplicates(all_paths, all_splits, all_features)
    found = {(pair.a, pair.b) for pair in pairs if pair.leakage} | {(pair.b, pair.a) for pair in pairs if pair.leakage}
    hits = sum((a, b) in found for a, b in copies)
    print(f"  near-duplicates: {hits}/{len(copies)} resized+JPEG copies found as leakage across splits; "
          f"{len(pairs)} pairs ≥ similarity threshold in {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
