"""Can this machine reach the weights host? Offline is normal here, so every download asks first (cached a minute)."""

from __future__ import annotations

import os
import socket
import time

__all__ = ["WEIGHTS_HOST", "weights_host", "is_online"]


WEIGHTS_HOST = ("storage.googleapis.com", 443)  # where keras.applications downloads from


_probe_cache: dict[str, tuple[float, bool]] = {}


def weights_host() -> tuple[str, int]:
    """The host weights come from: the Keras one, or the mirror in `$TLSTUDIO_WEIGHTS_MIRROR` (see weights_download)."""
    from urllib.parse import urlsplit

    mirror = urlsplit(os.environ.get("TLSTUDIO_WEIGHTS_MIRROR", ""))
    if not mirror.hostname:
        return WEIGHTS_HOST
    return mirror.hostname, mirror.port or (443 if mirror.scheme == "https" else 80)


def is_online(timeout: float = 1.5, max_age_s: float = 60.0) -> bool:
    """Can this machine open a connection to the weights host? Cached for a minute."""
    host = weights_host()
    key = "%s:%d" % host
    now = time.monotonic()
    if key in _probe_cache and now - _probe_cache[key][0] < max_age_s:
        return _probe_cache[key][1]
    try:
        with socket.create_connection(host, timeout=timeout):
            reachable = True
    except OSError:
        reachable = False
    _probe_cache[key] = (now, reachable)
    return reachable
