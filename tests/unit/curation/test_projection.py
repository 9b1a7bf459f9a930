"""Projection to 2-D: every method gives one finite point per image, keeps separated clusters apart, and refuses
bad input with a message."""

import sys
import types

import numpy as np
import pytest

from tlcore.curation import project


def _two_clusters(n=40, dims=60):
    rng = np.random.default_rng(0)
    return np.concatenate([rng.normal(0, 1, (n, dims)), rng.normal(8, 1, (n, dims))]).astype(np.float32)


def _assert_apart(points, n=20):
    assert points.shape == (2 * n, 2) and np.isfinite(points).all()
    first, second = points[:n], points[n:]
    gap = np.linalg.norm(first.mean(axis=0) - second.mean(axis=0))
    spread = max(first.std(axis=0).max(), second.std(axis=0).max())
    assert gap > 2 * spread, (gap, spread)


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_clusters_stay_apart(method):
    _assert_apart(project(_two_clusters(n=20), method, seed=0))


def test_the_default_projection_umap_for_real_keeps_clusters_apart_and_its_seed_decides_the_map():
    """The app's default map (UMAP), the real umap-learn: one test, because its first fit compiles with numba
    (~100 s on 2 busy cores; later fits of 40 points take about a second)."""
    features = _two_clusters(n=20)
    first = project(features)  # the default method
    _assert_apart(first)
    assert np.allclose(project(features, "umap", seed=0), first)  # same seed, same map
    assert not np.allclose(project(features, "umap", seed=1), first)  # the seed reaches UMAP: another map


def test_bad_input_is_refused_plainly():
    with pytest.raises(ValueError, match="Unknown projection"):
        project(_two_clusters(), "mds")
    with pytest.raises(ValueError, match="at least 3"):
        project(np.zeros((2, 4)), "pca")


def test_umap_gets_pca_reduced_features_a_seed_and_few_neighbours(monkeypatch):
    calls = {}

    class FakeUMAP:
        def __init__(self, **kwargs):
            calls["kwargs"] = kwargs

        def fit_transform(self, features):
            calls["shape"] = features.shape
            return np.asarray(features)[:, :2]

    monkeypatch.setitem(sys.modules, "umap", types.SimpleNamespace(UMAP=FakeUMAP))
    points = project(_two_clusters(n=40, dims=80), "umap", seed=7)
    assert points.shape == (80, 2) and points.dtype == np.float32
    assert calls["shape"] == (80, 50)  # 80 dimensions reduced to 50 by PCA first
    assert calls["kwargs"]["random_state"] == 7 and calls["kwargs"]["n_components"] == 2
    assert calls["kwargs"]["n_neighbors"] == 15
