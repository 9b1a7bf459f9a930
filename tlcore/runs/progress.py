"""How far a running job is, and whether it still runs, from its status.json: the fraction for a progress bar, the
line beside it, and the process identity (pid, start time, host) that tells a live job from a reused pid."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

from tlcore.runs.folders import pid_alive

__all__ = ["Progress", "job_progress", "process_identity", "process_start_ticks", "process_alive"]


@dataclass(frozen=True)
class Progress:
    fraction: float  # 0..1
    text: str


def job_progress(status: dict) -> Progress:
    """Epochs and batches done of this phase's epochs (a resumed phase counts from its first epoch), and the ETA;
    while evaluating, the images evaluated of the held-out split; in a long step before training (checking every
    image, computing features) the step's own fraction and message (status `step`, written by the job)."""
    step = status.get("step") or {}
    if step.get("phase") and step.get("phase") == status.get("phase"):
        fraction = min(1.0, max(0.0, float(step.get("fraction") or 0.0)))
        return Progress(fraction, f"{step['phase']} · {step.get('message', '')}")
    if status.get("phase") == "evaluating" and status.get("images_to_evaluate"):
        done, total = status.get("evaluated_images") or 0, status["images_to_evaluate"]
        return Progress(min(1.0, max(0.0, done / total)), f"evaluating · {done:,}/{total:,} images")
    epochs = status.get("epochs") or 0
    first = status.get("first_epoch") or 1  # status.json is checked when read (tlcore.runs.records): ints or None
    epoch, batch, batches = status.get("epoch") or first, status.get("batch") or 0, status.get("batches") or 1
    done = ((epoch - first) + batch / batches) / max(1, epochs - first + 1) if epochs else 0.0
    eta = status.get("eta_seconds")
    text = (f"{status.get('phase', 'starting')} · epoch {epoch}/{epochs or '?'} · batch {batch}/{batches}"
            + (f" · about {eta:.0f} s left" if eta is not None else ""))
    return Progress(min(1.0, max(0.0, done)), text)


# --- liveness: is the process a status.json names still that job? ----------------------------------------------------
def process_identity(pid: int | None = None) -> dict:
    """What status.json records about the job's process: pid, its start time (clock ticks since boot) and host.

    A bare pid is not enough: after the job dies its pid can be given to an unrelated process, which would keep a dead
    run "running" forever. The start time tells the two apart; the host says whose process table to ask.
    """
    pid = os.getpid() if pid is None else pid
    return {"pid": pid, "pid_started": process_start_ticks(pid), "host": socket.gethostname()}


def process_start_ticks(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat (when the process started, in clock ticks since boot); None off Linux or when gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def process_alive(status: dict) -> bool | None:
    """True when the job process recorded in `status` still runs, False when it does not, None when this machine
    cannot tell (it ran on another host: only that host or the cluster's own job status can answer)."""
    pid = status.get("pid")
    if not pid:
        return False
    host = status.get("host")
    if host and host != socket.gethostname():
        return None
    if not pid_alive(int(pid)):
        return False
    started = status.get("pid_started")
    return started is None or process_start_ticks(int(pid)) == started
