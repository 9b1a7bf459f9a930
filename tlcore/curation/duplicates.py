"""Near-duplicates (resized or re-encoded copies) by embedding similarity, flagged as leakage when a pair crosses
splits; and outliers by feature-space density. The health report's exact-hash duplicates stay where they are.

Cosine similarity of L2-normalised pooled features, through scikit-learn's NearestNeighbors (exact, ball-tree free:
brute force on normalised vectors is what scales to 50k × 1280 in seconds).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["DEFAULT_SIMILARITY", "NEIGHBOURS", "REDUCE_ABOVE_IMAGES", "REDUCED_DIMENSIONS", "DuplicatePair", "normalised", "near_duplicates", "outlier_scores"]

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


def _neighbours(features: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean neighbours of unit vectors; for many wide vectors, searched in a 128-dim PCA of them (kept ~10× faster
    at 50k × 1,280; distances are then taken between the re-normalised projections)."""
    from sklearn.neighbors import NearestNeighbors

    if len(features) > REDUCE_ABOVE_IMAGES and features.shape[1] > REDUCED_DIMENSIONS:
        from sklearn.decomposition import PCA

        features = normalised(PCA(n_components=REDUCED_DIMENSIONS, random_state=0).fit_transform(features))
    k = min(k + 1, len(features))
    finder = NearestNeighbors(n_neighbors=k, metric="euclidean", algorithm="brute").fit(features)
    distances, indices = finder.kneighbors(features)
    return distances[:, 1:], indices[:, 1:]  # the first neighbour of each point is itself


def near_duplicates(paths: list[str], splits: list[str], features: np.ndarray,
                    min_similarity: float = DEFAULT_SIMILARITY, k: int = NEIGHBOURS) -> list[DuplicatePair]:
    """Pairs with cosine similarity ≥ `min_similarity`, leakage across splits first, then most similar first."""
    if len(paths) < 2:
        return []
    unit = normalised(features)
    distances, indices = _neighbours(unit, k)
    similarity = 1.0 - distances**2 / 2.0  # for unit vectors, |a − b|² = 2 − 2 cos
    seen: set[tuple[int, int]] = set()
    pairs = []
    for i, j in zip(*np.nonzero(similarity >= min_similarity)):
        a, b = sorted((int(i), int(indices[i, j])))
        if a != b and (a, b) not in seen:
            seen.add((a, b))
            pairs.append(DuplicatePair(paths[a], paths[b], round(float(similarity[i, j]), 6), splits[a], splits[b]))
    return sorted(pairs, key=lambda pair: (not pair.leakage, -pair.similarity, pair.a, pair.b))


def outlier_scores(features: np.ndarray, k: int = NEIGHBOURS) -> np.ndarray:
    """Mean cosine distance to the k nearest neighbours, scaled to 0..1 by rank: high where the space is sparse."""
    if len(features) < 2:
        return np.zeros(len(features))
    distances, _ = _neighbours(normalised(features), k)
    density = distances.mean(axis=1)
    ranks = density.argsort().argsort()
    return ranks / max(len(ranks) - 1, 1)
