"""A run's readable name beside its time stamp: backbone, size, phase and parent, so frozen and fine-tuned runs of
the same backbone do not look alike in the run pickers."""

from __future__ import annotations

from tlcore.config.training import WEIGHTS_RANDOM, TrainConfig

__all__ = ["readable_name"]


def readable_name(config: TrainConfig) -> str:
    """What a run is, in words, beside its time stamp: backbone, size, phase and parent.

    "MobileNetV2 160 px · frozen", "MobileNetV2 160 px · fine-tune from layer 100 · after 2026-12-07_101500_…",
    "… · gradual unfreezing (3 stages)". Written into status.json as `name` when the run is created.
    """
    parts = [f"{config.backbone} {config.image_size} px"]
    if config.gradual_unfreezing:
        parts.append(f"gradual unfreezing ({config.gradual_unfreezing.stages} stages)")
    elif config.fine_tune_at is None:
        parts.append("frozen" if config.weights != WEIGHTS_RANDOM else "frozen random base")
    elif config.is_fine_tune:
        parts.append(f"fine-tune from layer {config.fine_tune_at}")
    elif config.fine_tune_at == 0:
        parts.append("all layers trained" if config.weights != WEIGHTS_RANDOM else "from scratch")
    else:
        parts.append(f"layers from {config.fine_tune_at} trained")
    if config.parent_run:
        parts.append(f"after {config.parent_run}")
    return " · ".join(parts)
