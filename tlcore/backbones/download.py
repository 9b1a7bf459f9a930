"""Download a backbone's ImageNet weights file with progress, exactly as Keras would fetch it, then install it.

The URL and file hash of every file come from `weights_sources.json`, written by `python -m tlcore.backbones.download`
from what `keras.applications` itself passes to `keras.utils.get_file` (so they cannot drift from the installed Keras).
The file is streamed in chunks to a temporary file in the Keras models folder, its hash checked (md5 or sha256, by
length, as Keras does), and only then renamed (atomic) to the name Keras looks for. Nothing is ever half-installed.

`TLSTUDIO_WEIGHTS_MIRROR` (e.g. `http://mirror.local:8000`) replaces the scheme and host of every URL: a mirror
serving the same paths, and how the tests serve a file from a local http.server.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from tlcore.backbones import catalog, registry
from tlcore.backbones.weights import WeightsUnavailable, install_weights, installed_path
from tlcore import network
from tlcore.storage.paths import keras_models_dir

__all__ = [
    "SOURCES_FILE", "MIRROR_ENV", "CHUNK_BYTES", "TIMEOUT_S", "DownloadFailed", "WeightsSource", "mirror_url",
    "source_for", "download_weights", "download_task", "record_sources"
]

SOURCES_FILE = Path(__file__).parent / "weights_sources.json"
MIRROR_ENV = "TLSTUDIO_WEIGHTS_MIRROR"
CHUNK_BYTES = 1 << 20
TIMEOUT_S = 30


class DownloadFailed(RuntimeError):
    """The weights file could not be fetched, or what arrived is not the file Keras expects; nothing was installed."""


@dataclass(frozen=True)
class WeightsSource:
    filename: str  # the name Keras caches it under in its models folder
    url: str
    file_hash: str | None  # as in keras.applications; None where Keras gives none (MobileNet v1)

    @property
    def hash_algorithm(self) -> str:
        return "sha256" if self.file_hash and len(self.file_hash) == 64 else "md5"  # keras.utils.get_file "auto"


@lru_cache(maxsize=1)
def _sources() -> dict[str, dict[str, Any]]:
    return json.loads(SOURCES_FILE.read_text())


def mirror_url(url: str) -> str:
    """The URL with scheme and host replaced by `$TLSTUDIO_WEIGHTS_MIRROR` when that is set."""
    mirror = os.environ.get(MIRROR_ENV, "").rstrip("/")
    if not mirror:
        return url
    return mirror + urllib.parse.urlsplit(url).path


def source_for(backbone: registry.Backbone | str, image_size: int) -> WeightsSource:
    """Where Keras downloads this backbone's no-top weights for this input size, and their hash."""
    backbone = catalog.get(backbone) if isinstance(backbone, str) else backbone
    filename = backbone.weights_filename(image_size)
    entry = _sources().get(filename)
    if entry is None:
        raise KeyError(f"No download is known for {backbone.name} (it has no ImageNet weights file in Keras).")
    return WeightsSource(filename, mirror_url(entry["url"]), entry["file_hash"])


def download_weights(backbone_name: str, image_size: int,
                     report: Callable[[float, str], None] = lambda fraction, message: None) -> dict[str, Any]:
    """Stream the file to a temporary file next to its target, verify its hash, then rename it into place."""

    backbone = catalog.get(backbone_name)
    source = source_for(backbone, image_size)
    target = keras_models_dir() / source.filename
    if not network.is_online():
        raise WeightsUnavailable(
            f"This server is offline: it cannot reach {network.weights_host()[0]} to download `{source.filename}`. "
            "Copy the file from a machine with internet and install it with 'Upload a weights file' on the "
            "Backbones page (or copy it into " f"`{target.parent}/`).")
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".download-", suffix=".part")
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            digest = _stream(source.url, out, source.hash_algorithm, report)
        if source.file_hash and digest != source.file_hash:
            raise DownloadFailed(f"The downloaded `{source.filename}` is not the file Keras expects: its "
                                 f"{source.hash_algorithm} is {digest}, Keras expects {source.file_hash}. "
                                 "Nothing was installed.")
        if source.file_hash:
            os.replace(temp, target)
            installed_path(backbone, image_size).unlink(missing_ok=True)  # the published file wins over an upload
        else:  # Keras publishes no hash for this file: check it by loading it into the architecture instead

            report(0.99, "checking the file against the architecture (Keras gives no hash for it)")
            install_weights(backbone, image_size, temp.read_bytes())
    finally:
        temp.unlink(missing_ok=True)
    report(1.0, f"installed {source.filename}")
    return {"backbone": backbone.name, "image_size": image_size, "filename": source.filename, "path": str(target),
            "bytes": target.stat().st_size, "url": source.url, "hash_checked": bool(source.file_hash)}


def _stream(url: str, out, algorithm: str, report: Callable[[float, str], None]) -> str:
    """Copy the response body to `out` chunk by chunk, reporting progress; returns the body's hex digest."""
    hasher = hashlib.new(algorithm)
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            report(0.0, f"connecting to {urllib.parse.urlsplit(url).netloc}")
            while chunk := response.read(CHUNK_BYTES):
                out.write(chunk)
                hasher.update(chunk)
                done += len(chunk)
                size = f" of {total / 1e6:.1f} MB" if total else ""
                report(min(done / total, 0.99) if total else 0.0, f"downloaded {done / 1e6:.1f}{size}")
    except OSError as error:  # URLError, HTTPError, timeouts are all OSErrors
        raise DownloadFailed(f"Could not download {url}: {error}. Nothing was installed.") from None
    return hasher.hexdigest()


def download_task(params: dict[str, Any], report: Callable[[float, str], None]) -> dict[str, Any]:
    """Task "download_weights": params {"backbone": name, "image_size": int}."""
    return download_weights(params["backbone"], int(params["image_size"]), report)


def record_sources() -> dict[str, dict[str, Any]]:
    """Ask the installed keras.applications which file, URL and hash it downloads for every registered backbone at
    every size with weights of its own: `keras.utils.get_file` is intercepted (nothing is fetched). Imports TF."""
    from keras.src.utils import file_utils

    class Recorded(Exception):
        pass

    recorded: dict[str, dict[str, Any]] = {}
    original = file_utils.get_file

    def intercept(fname=None, origin=None, *args, file_hash=None, **kwargs):
        recorded[fname] = {"url": origin, "file_hash": file_hash}
        raise Recorded()

    file_utils.get_file = intercept
    try:
        for backbone in registry.REGISTRY.values():
            for size in backbone.weights_sizes or (backbone.fixed_weights_size or backbone.default_size,):
                try:
                    backbone.build_base(size, "imagenet")
                except Recorded:
                    pass
                expected = backbone.weights_filename(size)
                if expected not in recorded:
                    raise RuntimeError(f"{backbone.name} at {size}: Keras did not ask for {expected}")
                print(f"{backbone.name} {size}: {expected}", flush=True)
                import keras

                keras.backend.clear_session()
    finally:
        file_utils.get_file = original
    return dict(sorted(recorded.items()))


if __name__ == "__main__":
    SOURCES_FILE.write_text(json.dumps(record_sources(), indent=1) + "\n")
    print(f"wrote {SOURCES_FILE}", file=sys.stderr)
