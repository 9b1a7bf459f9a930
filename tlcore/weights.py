"""Where ImageNet weights come from, and a plain answer when they cannot be had (offline is normal)."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from pathlib import Path

from tlcore.backbones import Backbone
from tlcore.paths import keras_models_dir

WEIGHTS_HOST = ("storage.googleapis.com", 443)  # where keras.applications downloads from
_probe_cache: dict[str, tuple[float, bool]] = {}


class WeightsUnavailable(RuntimeError):
    """ImageNet weights are neither cached nor downloadable; the message says where to put the file."""


@dataclass(frozen=True)
class WeightsStatus:
    backbone: str
    filename: str
    path: Path
    cached: bool
    online: bool | None  # None: not probed

    @property
    def label(self) -> str:
        if self.cached:
            return "cached"
        if self.online is None:
            return "not cached"
        return "downloadable" if self.online else "missing (offline)"

    @property
    def advice(self) -> str:
        if self.cached:
            return f"ImageNet weights for {self.backbone} are cached at {self.path}."
        where = f"copy `{self.filename}` into `{self.path.parent}/`"
        if self.online:
            return f"ImageNet weights for {self.backbone} will be downloaded on first use (or {where})."
        return (f"ImageNet weights for {self.backbone} are not cached and this server cannot download them. "
                f"To use them offline, {where} (the file Keras would download), then reload. "
                f"Or train from random initialisation, which needs far more data and epochs.")


def is_online(timeout: float = 1.5, max_age_s: float = 60.0) -> bool:
    """Can this machine open a connection to the Keras weights host? Cached for a minute."""
    key = "%s:%d" % WEIGHTS_HOST
    now = time.monotonic()
    if key in _probe_cache and now - _probe_cache[key][0] < max_age_s:
        return _probe_cache[key][1]
    try:
        with socket.create_connection(WEIGHTS_HOST, timeout=timeout):
            reachable = True
    except OSError:
        reachable = False
    _probe_cache[key] = (now, reachable)
    return reachable


def status(backbone: Backbone, image_size: int, probe_network: bool = False) -> WeightsStatus:
    filename = backbone.weights_filename(image_size)
    path = keras_models_dir() / filename
    cached = path.is_file() and path.stat().st_size > 0
    online = is_online() if (probe_network and not cached) else None
    return WeightsStatus(backbone.name, filename, path, cached, online)


def imagenet_problem(backbone: Backbone, image_size: int) -> str | None:
    """Why ImageNet weights cannot be used at this size, or None when they can."""
    if backbone.fixed_weights_size and image_size != backbone.fixed_weights_size:
        return (f"{backbone.name}'s ImageNet weights only load at {backbone.fixed_weights_size}×"
                f"{backbone.fixed_weights_size}; choose that image size or random initialisation.")
    return None
