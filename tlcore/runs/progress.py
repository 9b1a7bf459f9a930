"""How far a running job is, from its status.json: the fraction for a progress bar and the line beside it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Progress", "job_progress"]


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
    first = status.get("first_epoch", 1)
    epoch, batch, batches = status.get("epoch") or first, status.get("batch") or 0, status.get("batches") or 1
    done = ((epoch - first) + batch / batches) / max(1, epochs - first + 1) if epochs else 0.0
    eta = status.get("eta_seconds")
    text = (f"{status.get('phase', 'starting')} · epoch {epoch}/{epochs or '?'} · batch {batch}/{batches}"
            + (f" · about {eta:.0f} s left" if eta is not None else ""))
    return Progress(min(1.0, max(0.0, done)), text)
