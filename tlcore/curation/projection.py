"""Features to 2-D for the map: UMAP (umap-learn), t-SNE or PCA (scikit-learn), seeded so a map redraws the same.

UMAP and t-SNE first reduce to 50 dimensions with PCA (their documented practice, and most of the speed at 50k).
umap-learn is slow to import (numba), so it is imported only when chosen.
"""

from __future__ import annotations

import numpy as np

__all__ = ["METHODS", "PRE_PCA_DIMENSIONS", "project"]

METHODS = ("umap", "tsne", "pca")
PRE_PCA_DIMENSIONS = 50


def project(features: np.ndarray, method: str = "umap", seed: int = 0) -> np.ndarray:
    """(n, 2) float32 coordinates.

    Raises:
        ValueError: an unknown method, or fewer than 3 images.
    """
    if method not in METHODS:
        raise ValueError(f"Unknown projection '{method}': use one of {', '.join(METHODS)}.")
    features = np.asarray(features, dtype=np.float32)
    if len(features) < 3:
        raise ValueError("A map needs at least 3 images.")
    from sklearn.decomposition import PCA

    if method == "pca":
        return PCA(n_components=2, random_state=seed).fit_transform(features).astype(np.float32)
    if features.shape[1] > PRE_PCA_DIMENSIONS and len(features) > PRE_PCA_DIMENSIONS:
        features = PCA(n_components=PRE_PCA_DIMENSIONS, random_state=seed).fit_transform(features)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30, max(2, (len(features) - 1) // 3)))
        return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(
            features).astype(np.float32)
    import umap

    neighbours = int(min(15, len(features) - 1))
    reducer = umap.UMAP(n_components=2, n_neighbors=neighbours, random_state=seed, low_memory=True)
    return reducer.fit_transform(features).astype(np.float32)
