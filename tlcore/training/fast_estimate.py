"""How much faster the fast frozen phase should be than plain `fit`, from how often each path runs the frozen base.

Plain augmented `fit` runs the base over every training and validation image each epoch (E x (N_train + N_val)
passes); the fast path runs it K times over the training images and once over validation (K x N_train + N_val),
then trains only the head. Each pass of the fast path is cheaper (large inference batches, no training step), by
`INFERENCE_GAIN`. The Train page shows this estimate next to the number of views, with the accuracy the views cost in
the benchmark (`MEASURED_POINTS`), so the choice of K is informed.
"""

from __future__ import annotations

from tlcore.config.split import SplitConfig

__all__ = ["INFERENCE_GAIN", "TARGET_SPEEDUP", "MEASURED_POINTS", "val_per_train", "base_pass_ratio", "expected_speedup", "suggested_views"]

# Measured CPU-time ratio / base_pass_ratio (bench/frozen_phase.py --augment --sweep, VGG16 32 px, digits, seeds 42
# and 43): 0.80-0.81 at K = 1, 0.80-0.89 at 2, 0.90-1.01 at 3, 0.91-0.99 at 5, 0.95-1.01 at 10. An augmented view costs
# about a pass inside fit (both augment); the validation pass, the head's epochs and tracing are fixed costs that
# weigh most at small K, where the choice is made.
INFERENCE_GAIN = 0.85
TARGET_SPEEDUP = 5.0  # issue 15: the fast phase with augmentation at least 5x plain augmented fit
# (K views, validation accuracy points against augmenting every epoch): bench/frozen_phase.py --standin --augment,
# MobileNetV2 32 px pretrained on half the digits, the head trained 10 epochs on the other half, mean of seeds 42-44.
# A random base (all there is offline otherwise) hid this cost: its plain runs swung more than the views did.
MEASURED_POINTS = ((1, -11.3), (2, -7.1), (3, -3.0), (5, -3.6), (10, -3.9))


def val_per_train(split: SplitConfig) -> float:
    """N_val / N_train of a split (0.15 / 0.70 = 0.21 by default): validation runs every epoch in plain fit."""
    return split.val_fraction / max(1e-9, 1.0 - split.val_fraction - split.test_fraction)


def base_pass_ratio(epochs: int, views: int, val_per_train: float) -> float:
    """Base passes of plain fit / of the fast path; `val_per_train` is N_val / N_train (0.15 / 0.70 by default)."""
    return epochs * (1 + val_per_train) / (max(1, views) + val_per_train)


def expected_speedup(epochs: int, views: int, val_per_train: float) -> float:
    """The fast path's expected speed-up over plain `fit` for `epochs` epochs and `views` K (0: no augmentation)."""
    return INFERENCE_GAIN * base_pass_ratio(epochs, views, val_per_train)


def suggested_views(epochs: int, val_per_train: float, target: float = TARGET_SPEEDUP) -> int:
    """The most views (1 to 10) that still keep the expected speed-up at `target`; 1 when none does. A hint on the
    Train page (the default augments every epoch), and the views of runs saved with `augmented_views` None."""
    fitting = [k for k in range(1, 11) if expected_speedup(epochs, k, val_per_train) >= target]
    return max(fitting, default=1)
