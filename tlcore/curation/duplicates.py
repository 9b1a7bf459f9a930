"""Near-duplicates (resized, blurred or re-encoded copies), flagged as leakage when a pair crosses splits; and
outliers by feature-space density.

The rule (`RULE`, said on the page and in the CLI) must hold whatever features the map uses, so the pixels carry it.
A fixed cosine cut does not transfer (a copy of a digit scored 0.93 with 32 px random features, under a 0.98 cut
tuned on other features), and a pure ratio test ("nearest ≤ half the second-nearest") misses copies in a dataset of
look-alike images and never finds a copy shrunk below the original's size. So each image is compared with every
other at the smaller one's size (a 4 px copy of an 8 px digit meets the digit shrunk to 4 px), allowing up to 1 px of
blur, and a pair counts when it is closer than the app's own synthetic copies of the dataset's images usually are
(calibrated per size on the dataset) and clearly closer than the dataset's images are to their neighbours; or by the
ratio test, in the pixels or in the map's features. Byte-identical files (same SHA-256) are "exact" pairs. Measured
with planted copies through the CLI path: bench/near_duplicates.py.

Cosine similarity of centred, L2-normalised pooled features, through one scikit-learn NearestNeighbors search
(exact, brute force on float32 unit vectors, a 128-dim PCA of them above 5,000 images) shared by both.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["DEFAULT_SIMILARITY", "DISTINCTIVE_RATIO", "RULE", "THUMBNAIL_SIZE", "NEIGHBOURS", "distinctive_pairs",
           "pixel_thumbnails", "pixel_pairs", "COPY_BLURS", "COPY_QUANTILE", "NEIGHBOUR_FRACTION", "CALIBRATION_IMAGES", "duplicate_pairs", "NearDuplicates", "find_near_duplicates", "REDUCE_ABOVE_IMAGES", "REDUCED_DIMENSIONS", "DuplicatePair",
           "Neighbours", "normalised", "nearest_neighbours", "near_duplicates", "outlier_scores"]

DEFAULT_SIMILARITY = 0.98  # cosine of centred features; resized + JPEG copies of digits at 32 px score ≥ 0.983, while
# 99 % of distinct digits have no neighbour above 0.975 (measured, bench/label_issues.py)
NEIGHBOURS = 10
DISTINCTIVE_RATIO = 0.5  # nearest ≤ half the distance of the second nearest (Lowe's ratio test)
THUMBNAIL_SIZE = 16  # images are compared as greyscale squares of at most this side (a larger image is shrunk to it)
COPY_BLURS = (0.0, 0.33, 0.67, 1.0)  # a copy may be blurred up to 1 px at its own size: the distance of a pair is the
# smallest over these blurs of the sharper image (so a blurred copy meets its original at the blur it was given)
CALIBRATION_IMAGES = 100  # the app's synthetic copies, per size: made of this many of the dataset's own images
COPY_QUANTILE = 0.95  # a pair is close enough when closer than 95 % of the synthetic copies are to their originals,
NEIGHBOUR_FRACTION = 0.6  # and closer than 0.6 × the dataset's median nearest-neighbour distance at that size
CANDIDATES = 10  # neighbours found in the middle blur, then re-measured over every blur
MIN_SIDE = 2
KIND_EXACT, KIND_PIXELS, KIND_FEATURES = "exact", "pixels", "features"
RULE = ("Pixels: both images are compared as greyscale squares at the smaller one's size (at most "
        f"{THUMBNAIL_SIZE} px), allowing up to 1 px of blur; a pair is a near-duplicate (kind 'pixels') when one "
        "image's nearest neighbour is closer than 95 % of the copies the app makes of 100 of the dataset's own images "
        "(resized, blurred, JPEG-encoded) are to their originals, and closer than "
        f"{NEIGHBOUR_FRACTION:.0%} of the dataset's median nearest-neighbour distance at that size, or at most half as "
        "far as its second-nearest. Features: the nearest neighbour at most half as far as the second-nearest in the "
        "map's features (kind 'features'). Byte-identical files: kind 'exact'.")
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


def pixel_thumbnails(root, paths: list[str], report=lambda fraction, message: None) -> tuple[list, np.ndarray]:
    """(greyscale images, at most THUMBNAIL_SIZE square: None where unreadable or one flat grey; their sides, the
    smaller of width and height, at most THUMBNAIL_SIZE). Small images are kept at their own size, so a shrunk copy
    can be compared at its size."""
    import time
    from pathlib import Path

    from PIL import Image

    images: list = [None] * len(paths)
    sides = np.zeros(len(paths), dtype=np.int64)
    last = time.monotonic()
    for index, path in enumerate(paths):
        try:
            with Image.open(Path(root) / path) as image:
                grey = image.convert("L")
            side = min(grey.width, grey.height, THUMBNAIL_SIZE)
            if grey.width > THUMBNAIL_SIZE or grey.height > THUMBNAIL_SIZE:
                grey = grey.resize((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.BILINEAR)
            extrema = grey.getextrema()
            if side >= MIN_SIDE and extrema[0] != extrema[1]:
                images[index], sides[index] = grey, side
        except (OSError, ValueError):
            pass
        if time.monotonic() - last > 1.0:
            report(index / len(paths), f"pixel thumbnails {index:,}/{len(paths):,}")
            last = time.monotonic()
    return images, sides


def _at_side(image, side: int, blur: float = 0.0) -> np.ndarray:
    """The image as a side × side greyscale square (bilinear), blurred by `blur` px, centred, unit length."""
    from PIL import Image, ImageFilter

    square = image if image.size == (side, side) else image.resize((side, side), Image.BILINEAR)
    if blur:
        square = square.filter(ImageFilter.GaussianBlur(blur))
    vector = np.asarray(square, dtype=np.float32).ravel()
    vector = vector - vector.mean()
    return vector / max(float(np.linalg.norm(vector)), 1e-6)


def _synthetic_copy(image, side: int, rng: np.random.Generator):
    """What the planted copies are: the image at `side` (or, at full size, resized 1-2×), blurred 0-1 px, JPEG 60-90."""
    import io

    from PIL import Image, ImageFilter

    if side < THUMBNAIL_SIZE:
        copy = image.resize((side, side), Image.BICUBIC)
    else:
        scale = rng.uniform(1.0, 2.0)
        copy = image.resize((round(image.width * scale), round(image.height * scale)), Image.BICUBIC)
    copy = copy.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.0, 1.0))))
    encoded = io.BytesIO()
    copy.save(encoded, "JPEG", quality=int(rng.integers(60, 91)))
    encoded.seek(0)
    return Image.open(encoded).convert("L")


class _SideComparison:
    """Every usable image at one side, at each COPY_BLURS; distances are the smallest over the blurs of the bank."""

    def __init__(self, images: list, usable: np.ndarray, side: int):
        self.usable = usable
        self.banks = [np.stack([_at_side(images[i], side, blur) for i in usable]) for blur in COPY_BLURS]
        from sklearn.neighbors import NearestNeighbors

        self.finder = NearestNeighbors(n_neighbors=min(CANDIDATES + 1, len(usable)), algorithm="brute").fit(
            self.banks[len(COPY_BLURS) // 2])

    def nearest(self, queries: np.ndarray, exclude: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(distances, bank rows) of each query's candidates, re-measured over every blur, nearest first; `exclude`
        (a bank row per query, or -1) is left out (the query itself)."""
        _, rows = self.finder.kneighbors(queries)
        distances = np.full(rows.shape, np.inf)
        for start in range(0, len(queries), 2_048):  # chunks: 50k queries × 11 candidates × 256 floats is 560 MB
            part = slice(start, start + 2_048)
            for bank in self.banks:
                distances[part] = np.minimum(distances[part], np.linalg.norm(
                    bank[rows[part]] - queries[part, None, :], axis=2))
        distances[rows == exclude[:, None]] = np.inf
        order = np.argsort(distances, axis=1)
        return np.take_along_axis(distances, order, axis=1), np.take_along_axis(rows, order, axis=1)


def pixel_pairs(images: list, sides: np.ndarray, seed: int = 0) -> dict[tuple[int, int], float]:
    """{(i, j) with i < j: cosine} of pixel near-duplicates by RULE, each image compared at its own side.

    The threshold at each side is calibrated on that dataset: the COPY_QUANTILE distance of synthetic copies the app
    makes of CALIBRATION_IMAGES of its images, capped at NEIGHBOUR_FRACTION × the median distance between the
    dataset's images and their nearest neighbours at that side (the median is not moved by a few % of duplicates).
    """
    usable = np.flatnonzero(sides >= MIN_SIDE)
    if len(usable) < 3:
        return {}
    rng = np.random.default_rng(seed)
    where = {int(index): row for row, index in enumerate(usable)}
    pairs: dict[tuple[int, int], float] = {}
    for side in sorted(set(sides[usable].tolist())):
        comparison = _SideComparison(images, usable, side)
        sharp = comparison.banks[0]
        sample = rng.choice(len(usable), min(CALIBRATION_IMAGES, len(usable)), replace=False)
        near, _ = comparison.nearest(sharp[sample], sample)
        median_nearest = float(np.median(near[:, 0]))
        copies = np.stack([_at_side(_synthetic_copy(images[usable[row]], side, rng), side) for row in sample])
        copy_distances = np.min([np.linalg.norm(bank[sample] - copies, axis=1) for bank in comparison.banks], axis=0)
        threshold = min(float(np.quantile(copy_distances, COPY_QUANTILE)), NEIGHBOUR_FRACTION * median_nearest)
        queries = np.array([where[int(i)] for i in usable if sides[i] == side])
        distances, rows = comparison.nearest(sharp[queries], queries)
        for query, first, second, row in zip(queries, distances[:, 0], distances[:, 1], rows[:, 0]):
            if np.isfinite(first) and (first <= threshold or first <= DISTINCTIVE_RATIO * second):
                a, b = sorted((int(usable[query]), int(usable[row])))
                pairs[(a, b)] = round(1.0 - float(first) ** 2 / 2.0, 6)
    return pairs


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
    images, sides = pixel_thumbnails(root, paths, report)  # unreadable or one flat grey: no pixel evidence
    report(0.5, "near-duplicates: comparing pixels")
    for pair, similarity in pixel_pairs(images, sides).items():
        found[pair] = (KIND_PIXELS, similarity)  # shown when both spaces agree
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
