"""Labeling with few examples: the instant model (class prototypes on a pretrained base, no training job)."""

from tlcore.labeling.instant import (INSTANT_FILE, InstantConfig, build_instant_run, cross_validated_accuracy,
                                     instant_summary, is_instant)

__all__ = ["INSTANT_FILE", "InstantConfig", "build_instant_run", "cross_validated_accuracy", "instant_summary",
           "is_instant"]
