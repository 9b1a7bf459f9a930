"""Near-duplicates (resized, blurred or re-encoded copies), flagged as leakage when a pair crosses splits; and
outliers by feature-space density.

The rule (`RULE`, said on the page and in the CLI) holds in any feature space because it is relative: a copy stands
out from its own neighbourhood. A pair (i, j) is a near-duplicate when j is i's nearest neighbour and is at most
`DISTINCTIVE_RATIO` times as far as i's second-nearest neighbour (Lowe's ratio test), in either of two spaces: a
blurred 16×16 greyscale thumbnail of the pixels (what a resized, blurred, re-encoded copy keeps), or the features the
map uses. A fixed cosine cut does not transfer: a copy of a digit scored 0.93 with 32 px random features, under a 0.98
cut tuned on other features, and random features hardly know a copy at all (measured, bench/near_duplicates.py).
Byte-identical files (same SHA-256) are "exact" pairs.

Cosine similarity of centred, L2-normalised pooled features, through one scikit-learn NearestNeighbors search
(exact, brute force on float32 unit vectors, a 128-dim PCA of them above 5,000 images) shared by both.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["DEFAULT_SIMILARITY", "DISTINCTIVE_RATIO", "RULE", "THUMBNAIL_SIZE", "NEIGHBOURS", "distinctive_pairs",
           "pixel_thumbnails", "duplicate_pairs", "NearDuplicates", "find_near_duplicates", "REDUCE_ABOVE_IMAGES", "REDUCED_DIMENSIONS", "DuplicatePair",
           "Neighbours", "normalised", "nearest_neighbours", "near_duplicates", "outlier_scores"]

DEFAULT_SIMILARITY = 0.98  # cosine of centred features; resized + JPEG copies of digits at 32 px score ≥ 0.983, while
# 99 % of distinct digits have no neighbour above 0.975 (measured, bench/label_issues.py)
NEIGHBOURS = 10
DISTINCTIVE_RATIO = 0.5  # nearest ≤ half the distance of the second nearest: 4-5 false pairs per 1,000 digits
THUMBNAIL_SIZE = 16  # greyscale thumbnail side, then a Gaussian blur of THUMBNAIL_BLUR pixels: every image loses the
THUMBNAIL_BLUR = 3.0  # detail a small, blurred or JPEG copy has lost, so copy and original meet; then each thumbnail
# is standardised (its own mean and spread), since a blur or a re-encoding changes contrast. Measured on planted digit
# copies: 71 % found against 58 % without the standardisation (3 seeds), at 4 false pairs per 1,000
# (bench/near_duplicates.py)
KIND_EXACT, KIND_PIXELS, KIND_FEATURES = "exact", "pixels", "features"
RULE = (f"A pair is a near-duplicate when one image's nearest neighbour is at most {DISTINCTIVE_RATIO:.0%} as far as "
        "its second-nearest (a copy stands out from its own neighbourhood, whatever the feature space), in a blurred "
        f"{THUMBNAIL_SIZE}×{THUMBNAIL_SIZE} greyscale thumbnail of the pixels (kind 'pixels') or in the map's features "
        "(kind 'features'); byte-identical files are kind 'exact'.")
REDUCE_ABOVE_IMAGES = 5_000  # beyond this many images the neighbour search runs on a PCA of the features
REDUCED_DIMENSIONS = 128


@dataclass(frozen=True)
class DuplicatePair:
    """Two files whose features are nearly the same; `leakage` when one is in another split than the other."""

    a: str
    b: str
    similarity: float
    split_a: str
    split_b: str
    kind: str = KIND_FEATURES  # exact, pixels or features: which evidence found the pair

    @property
    def leakage(self) -> bool:
        return self.split_a != self.split_b

    def to_dict(self) -> dict:
        return {**asdict(self), "leakage": self.leakage}


def normalised(features: np.ndarray) -> np.ndarray:
    """Centred (what every image shares, a white background or a ReLU offset, says nothing), then unit length."""
    features = np.asarray(features, dtype=np.float32)
    features = features - features.mean(axis=0, keepdims=True)
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return features / np.maximum(norms, 1e-12)


@dataclass(frozen=True)
class Neighbours:
    """Each image's k nearest other images: `similarity` (cosine, most similar first) and their `indices`."""

    similarity: np.ndarray
    indices: np.ndarray

    @property
    def distances(self) -> np.ndarray:
        """Euclidean distances between the unit vectors (|a − b|² = 2 − 2 cos)."""
        return np.sqrt(np.maximum(2.0 - 2.0 * self.similarity, 0.0))


def nearest_neighbours(features: np.ndarray, k: int = NEIGHBOURS) -> Neighbours:
    """One exact search, shared by the near-duplicates and the outliers (it is most of their time at 50k).

    Above REDUCE_ABOVE_IMAGES wide features are first projected to REDUCED_DIMENSIONS with PCA and re-normalised (at
    50k × 1,280 that is ~10× less arithmetic); then scikit-learn's brute-force search on float32 unit vectors (chunked
    matrix products with a multithreaded top-k), which beat a numpy matrix-product + argpartition loop 3× in CPU time
    at 20k × 128 (measured).
    """
    from sklearn.neighbors import NearestNeighbors

    unit = normalised(features)
    if len(unit) > REDUCE_ABOVE_IMAGES and unit.shape[1] > REDUCED_DIMENSIONS:
        from sklearn.decomposition import PCA

        unit = normalised(PCA(n_components=REDUCED_DIMENSIONS, random_state=0).fit_transform(unit))
    k = min(k + 1, len(unit))
    finder = NearestNeighbors(n_neighbors=k, metric="euclidean", algorithm="brute").fit(unit)
    distances, indices = finder.kneighbors(unit)
    # the first neighbour of each point is itself
    return Neighbours(1.0 - distances[:, 1:] ** 2 / 2.0, indices[:, 1:])


def near_duplicates(paths: list[str], splits: list[str], features: np.ndarray | None = None,
                    min_similarity: float = DEFAULT_SIMILARITY, k: int = NEIGHBOURS,
                    neighbours: Neighbours | None = None) -> list[DuplicatePair]:
    """Pairs with cosine similarity ≥ `min_similarity`, leakage across splits first, then most similar first.

    Pass `neighbours` (from `nearest_neighbours`) to reuse a search already made; otherwise `features` are searched.
    """
    if len(paths) < 2:
        return []
    found = neighbours if neighbours is not None else nearest_neighbours(features, k)
    similarity, indices = found.similarity, found.indices
    seen: set[tuple[int, int]] = set()
    pairs = []
    for i, j in zip(*np.nonzero(similarity >= min_similarity)):
        a, b = sorted((int(i), int(indices[i, j])))
        if a != b and (a, b) not in seen:
            seen.add((a, b))
            pairs.append(DuplicatePair(paths[a], paths[b], round(float(similarity[i, j]), 6), splits[a], splits[b]))
    return sorted(pairs, key=lambda pair: (not pair.leakage, -pair.similarity, pair.a, pair.b))


def outlier_scores(features: np.ndarray | None = None, k: int = NEIGHBOURS,
                   neighbours: Neighbours | None = None) -> np.ndarray:
    """Mean distance to the k nearest neighbours, scaled to 0..1 by rank: high where the space is sparse."""
    count = len(neighbours.indices) if neighbours is not None else len(features)
    if count < 2:
        return np.zeros(count)
    found = neighbours if neighbours is not None else nearest_neighbours(features, k)
    density = found.distances.mean(axis=1)
    ranks = density.argsort().argsort()
    return ranks / max(len(ranks) - 1, 1)


def distinctive_pairs(vectors: np.ndarray, ratio: float = DISTINCTIVE_RATIO) -> dict[tuple[int, int], float]:
    """{(i, j) with i < j: cosine} for every image whose nearest neighbour is ≤ `ratio` × its second-nearest's distance.

    Groups of identical vectors (distance 0 to several) all pair up: a zero nearest distance always counts.
    """
    if len(vectors) < 2:
        return {}
    found = nearest_neighbours(vectors, k=2)
    distances, similarity, indices = found.distances, found.similarity, found.indices
    pairs: dict[tuple[int, int], float] = {}
    for i in range(len(indices)):
        first = distances[i, 0]
        second = distances[i, 1] if distances.shape[1] > 1 else np.inf
        if first <= 1e-6 or first <= ratio * second:
            a, b = sorted((i, int(indices[i, 0])))
            pairs[(a, b)] = round(float(similarity[i, 0]), 6)
    return pairs


def pixel_thumbnails(root, paths: list[str], report=lambda fraction, message: None) -> np.ndarray:
    """A blurred, standardised THUMBNAIL_SIZE² greyscale thumbnail per image (float32 rows); an unreadable file gets
    zeros (and a blank image, all one grey, stays zeros: it pairs with nothing but its exact twin)."""
    import time
    from pathlib import Path

    from PIL import Image
    from scipy.ndimage import gaussian_filter

    rows = np.zeros((len(paths), THUMBNAIL_SIZE * THUMBNAIL_SIZE), dtype=np.float32)
    last = time.monotonic()
    for index, path in enumerate(paths):
        try:
            with Image.open(Path(root) / path) as image:
                thumbnail = image.convert("L").resize((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.BILINEAR)
            blurred = gaussian_filter(np.asarray(thumbnail, dtype=np.float32), THUMBNAIL_BLUR, mode="nearest")
            rows[index] = ((blurred - blurred.mean()) / (blurred.std() + 1e-3)).ravel()
        except (OSError, ValueError):
            pass
        if time.monotonic() - last > 1.0:
            report(index / len(paths), f"pixel thumbnails {index:,}/{len(paths):,}")
            last = time.monotonic()
    return rows


def _content_hashes(root, paths: list[str]) -> list[str | None]:
    import hashlib
    from pathlib import Path

    hashes: list[str | None] = []
    for path in paths:
        try:
            with open(Path(root) / path, "rb") as handle:
                hashes.append(hashlib.file_digest(handle, "sha256").hexdigest())
        except OSError:
            hashes.append(None)
    return hashes


def duplicate_pairs(root, paths: list[str], splits: list[str], features: np.ndarray,
                    report=lambda fraction, message: None) -> list[DuplicatePair]:
    """Exact, pixel and feature near-duplicate pairs by `RULE`, leakage first, then most similar first."""
    if len(paths) < 2:
        return []
    found: dict[tuple[int, int], tuple[str, float]] = {}
    for pair, similarity in distinctive_pairs(features).items():
        found[pair] = (KIND_FEATURES, similarity)
    report(0.0, "pixel thumbnails")
    thumbnails = pixel_thumbnails(root, paths, report)
    usable = np.flatnonzero(np.abs(thumbnails).sum(axis=1) > 0)  # unreadable or one flat grey: no pixel evidence
    for (a, b), similarity in distinctive_pairs(thumbnails[usable]).items():
        found[(int(usable[a]), int(usable[b]))] = (KIND_PIXELS, similarity)  # shown when both spaces agree
    groups: dict[str, list[int]] = {}
    for index, digest in enumerate(_content_hashes(root, paths)):
        if digest is not None:
            groups.setdefault(digest, []).append(index)
    for members in groups.values():
        for a, b in zip(members, members[1:]):
            found[(a, b)] = (KIND_EXACT, 1.0)
    pairs = [DuplicatePair(paths[a], paths[b], similarity, splits[a], splits[b], kind)
             for (a, b), (kind, similarity) in found.items()]
    return sorted(pairs, key=lambda pair: (not pair.leakage, pair.kind != KIND_EXACT, -pair.similarity, pair.a, pair.b))


@dataclass
class NearDuplicates:
    """What `python -m tlcore near-duplicates` prints: the pairs, how many images were searched, and the rule."""

    dataset: str
    images: int
    features: str
    pairs: list[DuplicatePair]
    rule: str = RULE

    def to_dict(self) -> dict:
        return {"dataset": self.dataset, "images": self.images, "features": self.features, "rule": self.rule,
                "pairs": [pair.to_dict() for pair in self.pairs],
                "leaking_pairs": sum(pair.leakage for pair in self.pairs)}


def find_near_duplicates(config, report=lambda fraction, message: None) -> NearDuplicates:
    """The product path of the CLI command and the bench: the dataset's features (`EmbedConfig`), then `RULE`.

    Raises what `compute_embeddings` raises (WeightsUnavailable offline without cached ImageNet weights, ...).
    """
    from tlcore.curation.embeddings import compute_embeddings

    embeddings = compute_embeddings(config, report)
    pairs = duplicate_pairs(embeddings.root, embeddings.paths, embeddings.splits, embeddings.features, report)
    features = (f"run {config.run}" if config.run else
                f"{config.backbone} {config.image_size} px, {config.weights} weights")
    return NearDuplicates(embeddings.root, len(embeddings.paths), features, pairs)
