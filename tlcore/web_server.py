"""How the Streamlit server process must run on a shared machine: on loopback unless sign-in guards it, and never
holding GPU memory a training job needs.

TensorFlow's default allocator reserves nearly all GPU memory in the first process that touches the GPU; if that is
the web server (a preview, a prediction, Grad-CAM), jobs then fail with a misleading "try a smaller batch size".
`keep_gpu_for_jobs` makes the server's TensorFlow see no GPU (or, with `TLSTUDIO_SERVER_GPU_MB`, one GPU capped at
that many MB) the moment TensorFlow is imported, without importing it itself and without changing the environment
the job processes inherit (CUDA_VISIBLE_DEVICES would hide the GPU from training too).

Streamlit runs each rerun in its own thread, so the first reruns after a start can import TensorFlow at the same
time: while one thread is still executing `tensorflow/__init__`, the module is already in `sys.modules`, only
partially initialised (no `tf.config` yet). The set-up therefore runs exactly once, under one lock, and only on a
fully imported module: a rerun that finds TensorFlow half-imported leaves the set-up to the import hook, which runs
it when the import finishes.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import ipaddress
import os
import sys
import threading
from typing import Any

__all__ = ["OPEN_OPT_OUT", "SERVER_GPU_MB", "is_loopback", "listening_problem", "server_gpu_cap_mb",
           "keep_gpu_for_jobs", "applied_gpu_setting"]

OPEN_OPT_OUT = "TLSTUDIO_ALLOW_UNAUTHENTICATED_NETWORK"  # "1": listen on a network address without sign-in
SERVER_GPU_MB = "TLSTUDIO_SERVER_GPU_MB"  # 0 (default): the server's TensorFlow sees no GPU
_applied: dict[str, Any] = {}
_setup_lock = threading.RLock()  # one set-up, whichever rerun thread gets there first


def is_loopback(address: str | None) -> bool:
    """True for addresses only this machine can reach; an empty address means every interface (not loopback)."""
    if not address:
        return False
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


def listening_problem(address: str | None, sign_in_configured: bool, environ: dict | None = None) -> str | None:
    """Why the app must not serve on `address`, or None. Network addresses need sign-in or the explicit opt-out."""
    environ = os.environ if environ is None else environ
    if is_loopback(address) or sign_in_configured or environ.get(OPEN_OPT_OUT) == "1":
        return None
    shown = address or "every network interface"
    return (f"TL Studio is listening on {shown} without sign-in, so anyone who reaches this port could start, cancel "
            "or delete anyone's jobs. Either start it on loopback (`streamlit run app.py --server.address 127.0.0.1`, "
            "the default in .streamlit/config.toml) and reach it through an SSH tunnel, configure sign-in in "
            f".streamlit/secrets.toml (docs/shared-server.md), or set {OPEN_OPT_OUT}=1 to accept the risk.")


def server_gpu_cap_mb(environ: dict | None = None) -> int:
    """GPU memory the server may use, in MB (0: no GPU at all). A bad value counts as 0: the safe side."""
    text = (os.environ if environ is None else environ).get(SERVER_GPU_MB, "0").strip() or "0"
    try:
        return max(0, int(text))
    except ValueError:
        return 0


def _still_importing(module: Any) -> bool:
    """True while another thread (or this one, further up the stack) is still executing the module's __init__."""
    spec = getattr(module, "__spec__", None)
    return bool(getattr(spec, "_initializing", False))


def _configure(tf: Any) -> None:
    """Hide the GPUs from this process (or cap the first at TLSTUDIO_SERVER_GPU_MB), before any op runs on one.
    Once per process, under the lock."""
    with _setup_lock:
        if not _applied:
            _configure_unlocked(tf)


def _configure_unlocked(tf: Any) -> None:
    cap = server_gpu_cap_mb()
    try:
        gpus = tf.config.list_physical_devices("GPU")
        if cap and gpus:
            tf.config.set_visible_devices(gpus[:1], "GPU")
            tf.config.set_logical_device_configuration(gpus[0], [tf.config.LogicalDeviceConfiguration(memory_limit=cap)])
            _applied.update(setting="capped", cap_mb=cap, gpus=len(gpus))
        else:
            tf.config.set_visible_devices([], "GPU")
            _applied.update(setting="no GPU", cap_mb=0, gpus=len(gpus))
    except RuntimeError as error:  # devices already initialised: say so rather than pretend
        _applied.update(setting="too late", error=str(error))


class _AfterTensorFlowImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Wraps TensorFlow's own loader so `_configure` runs right after `import tensorflow` finishes, wherever."""

    def find_spec(self, name, path, target=None):
        if name != "tensorflow":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return None
        self._loader = spec.loader
        spec.loader = self
        return spec

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        _configure(module)


def keep_gpu_for_jobs() -> None:
    """Call in the server process (app.py, every rerun). Idempotent and thread-safe; applies at once if TensorFlow
    is already fully imported, and never touches a TensorFlow that another rerun is still importing."""
    with _setup_lock:
        if _applied:
            return
        if not any(isinstance(finder, _AfterTensorFlowImport) for finder in sys.meta_path):
            sys.meta_path.insert(0, _AfterTensorFlowImport())
        module = sys.modules.get("tensorflow")
        if module is not None and not _still_importing(module):
            _configure_unlocked(module)


def applied_gpu_setting() -> dict[str, Any]:
    """What `keep_gpu_for_jobs` did ({} until TensorFlow was imported): {"setting": "no GPU" | "capped" | …}."""
    return dict(_applied)
