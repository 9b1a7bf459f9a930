"""What a base's weights *are*, as a short hash: the one identity every cache of features, probes and maps is keyed by.

A cache keyed by the string "imagenet" reuses its old features after the weights file is replaced (a random file
uploaded, then the good one): training silently trains on the wrong features. So a cache key names the content it
was computed from: the bytes of the weights file Keras actually loads (ImageNet download, uploaded file, a custom
backbone's own `base.keras`, a KerasHub preset folder), or the seed of a random base.

Hashing a file costs about a second per 300 MB, so a file's hash is computed once and remembered by its identity on
disk (path, device, inode, size, modification and change time): in this process and in `cache_root()/fingerprints/`
for the next one. A file replaced by `os.replace`, copied over or touched gets a new identity and is hashed again.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

from tlcore.backbones import weights as weights_module
from tlcore.backbones.kerashub import KerasHubBackbone, local_preset
from tlcore.backbones.registry import Backbone
from tlcore.storage.atomic import write_json_atomic
from tlcore.storage.paths import cache_root, keras_models_dir

__all__ = ["EXTRACTION_VERSION", "file_fingerprint", "folder_fingerprint", "weights_path", "weights_fingerprint"]

# Bump when the way pooled features are computed changes (preprocessing layer, pooling, inference mode): every
# cached feature, probe and map made by older code is then left unused.
EXTRACTION_VERSION = 2

_HASH_CHUNK = 1 << 22
_memo: dict[tuple, str] = {}
_memo_lock = threading.Lock()


def _identity(path: Path) -> tuple:
    stat = path.stat()
    return (str(path.resolve()), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def _memo_file(identity: tuple) -> Path:
    name = hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:32]
    return cache_root() / "fingerprints" / f"{name}.json"


def file_fingerprint(path: str | os.PathLike) -> str:
    """The sha256 of a file's bytes (hex, 32 characters), computed once per version of the file on disk."""
    path = Path(path)
    identity = _identity(path)
    with _memo_lock:
        known = _memo.get(identity)
    if known:
        return known
    memo_file = _memo_file(identity)
    try:
        stored = json.loads(memo_file.read_text())
        if stored.get("identity") == list(identity):
            digest = stored["sha256"]
            with _memo_lock:
                _memo[identity] = digest
            return digest
    except (OSError, ValueError, KeyError, AttributeError):
        pass
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            hasher.update(chunk)
    digest = hasher.hexdigest()[:32]
    if _identity(path) == identity:  # unchanged while it was read: safe to remember
        with _memo_lock:
            _memo[identity] = digest
        try:
            write_json_atomic(memo_file, {"identity": list(identity), "sha256": digest})
        except OSError:
            pass  # a read-only cache only costs hashing again
    return digest


def folder_fingerprint(folder: str | os.PathLike) -> str:
    """A hash of every file under a folder (relative name and content), e.g. a KerasHub preset folder."""
    folder = Path(folder)
    entries = sorted((str(path.relative_to(folder)), file_fingerprint(path))
                     for path in folder.rglob("*") if path.is_file())
    return hashlib.sha256(json.dumps(entries).encode()).hexdigest()[:32]


def weights_path(backbone: Backbone, image_size: int, weights: str | None) -> Path | None:
    """The file (or preset folder) the base's weights are loaded from; None for a random base."""
    if weights in (None, "random"):
        return None
    own = backbone.own_weights_file
    if own is not None:
        return own
    if isinstance(backbone, KerasHubBackbone):
        return local_preset(backbone.preset)
    if weights == "imagenet":
        installed = weights_module.installed_path(backbone, image_size)  # an upload Keras loads by path
        return installed if installed.is_file() else keras_models_dir() / backbone.weights_filename(image_size)
    return Path(weights)


def weights_fingerprint(backbone: Backbone, image_size: int, weights: str | None, seed: int = 0) -> str:
    """The identity of the weights a base starts from: `random:<seed>` (a random base is drawn from the seed), or
    `sha256:<hash>` of the file (folder) they are loaded from, or `missing:<name>` when that file is not there yet
    (nothing can have been computed from it, so no cache entry can match)."""
    if weights in (None, "random"):
        return f"random:{seed}"
    path = weights_path(backbone, image_size, weights)
    if path is None:
        return f"missing:{getattr(backbone, 'preset', '') or backbone.name}"
    if path.is_dir():
        return f"sha256:{folder_fingerprint(path)}"
    if not path.is_file():
        return f"missing:{path.name}"
    return f"sha256:{file_fingerprint(path)}"
