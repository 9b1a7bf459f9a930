"""The GPUs this machine lends to jobs, found without TensorFlow (nvidia-smi), or a pretend set for tests.

The scheduler hands out these ids through each job's `CUDA_VISIBLE_DEVICES`; they are the ids the server itself sees,
so a server started with `CUDA_VISIBLE_DEVICES=2,3` shares GPUs 2 and 3 only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache

__all__ = ["FAKE_GPUS_ENV", "gpu_ids"]

# Tests only: pretend this many GPUs exist ("2" gives ids 0 and 1), so the scheduler can be checked on a CPU box.
FAKE_GPUS_ENV = "TLSTUDIO_FAKE_GPUS"


def gpu_ids() -> tuple[str, ...]:
    """The GPU ids jobs may be given, in order; empty on a CPU-only machine."""
    fake = os.environ.get(FAKE_GPUS_ENV, "").strip()
    if fake:
        if not fake.isdigit():
            raise ValueError(f"{FAKE_GPUS_ENV} must be a whole number of GPUs, not '{fake}'.")
        return tuple(str(index) for index in range(int(fake)))
    return _listed_gpus(os.environ.get("CUDA_VISIBLE_DEVICES"))


@lru_cache(maxsize=4)
def _listed_gpus(visible: str | None) -> tuple[str, ...]:
    """nvidia-smi's GPUs (asked once per process and visibility setting: the hardware does not change under us)."""
    if visible is not None and visible.strip() in ("", "-1"):
        return ()
    if not shutil.which("nvidia-smi"):
        return ()
    try:
        done = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return ()
    count = sum(1 for line in done.stdout.splitlines() if line.startswith("GPU "))
    ids = tuple(str(index) for index in range(count))
    if visible:
        ids = tuple(part.strip() for part in visible.split(",") if part.strip())[:count]
    return ids
