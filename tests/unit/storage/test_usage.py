"""Disk use by kind, and pruning caches (rebuilt on demand) without touching runs or uploads."""

from tlcore.storage import disk_usage, prune_caches
from tlcore.storage.paths import cache_root, runs_root


def test_usage_by_kind_and_prune_only_caches(studio_dirs):
    (runs_root() / "r1").mkdir()
    (runs_root() / "r1" / "model.keras").write_bytes(b"x" * 1000)
    (cache_root() / "features").mkdir()
    (cache_root() / "features" / "f.npy").write_bytes(b"x" * 300)
    (cache_root() / "thumbnails").mkdir()
    (cache_root() / "thumbnails" / "t.png").write_bytes(b"x" * 20)
    (cache_root() / "uploads").mkdir()
    (cache_root() / "uploads" / "u.zip").write_bytes(b"x" * 5)
    usage = {row.kind: row.bytes for row in disk_usage()}
    assert usage["runs"] == 1000 and usage["features cache"] == 300 and usage["thumbnails"] == 20
    assert usage["uploads (uploads)"] == 5 and usage["trash"] == 0
    assert prune_caches() == 320
    usage = {row.kind: row.bytes for row in disk_usage()}
    assert usage["features cache"] == 0 and usage["runs"] == 1000 and usage["uploads (uploads)"] == 5
