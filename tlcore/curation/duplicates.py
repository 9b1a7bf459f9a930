"""Near-duplicates (resized or re-encoded copies) by embedding similarity, flagged as leakage when a pair crosses
splits; and outliers by feature-space density. The health report's exact-hash duplicates stay where they are.

Cosine similarity of centred, L2-normalised pooled features, through one scikit-learn NearestNeighbors search
(exact, brute force on float32 unit vectors, a 128-dim PCA of them above 5,000 images) shared by both.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["DEFAULT_SIMILARITY", "NEIGHBOURS", "REDUCE_ABOVE_IMAGES", "REDUCED_DIMENSIONS", "DuplicatePair",
           "Neighbours", "normalised", "nearest_neighbours", "near_duplicates", "outlier_scores"]

DEFAULT_SIMILARITY = 0.98  # cosine of centred features; resized + JPEG copies of digits at 32 px score ≥ 0.983, while
# 99 % of distinct digits have no neighbour above 0.975 (measured, bench/label_issues.py)
NEIGHBOURS = 10
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
