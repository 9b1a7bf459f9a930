"""Train page, fast frozen phase with augmentation: how many augmented views per image, what that approximates and
how much faster it is expected to be.

UI only: returns the TrainConfig field it collected (tlcore.training.feature_cache does the work, the estimate is
tlcore.training.expected_speedup).
"""

from __future__ import annotations

import streamlit as st

from tlcore import training
from tlcore.config import SplitConfig

DEFAULT_VIEWS = 10  # TrainConfig.augmented_views


def augmented_views_option(augment: bool, fine_tune_at: int | None, epochs: int, split: SplitConfig) -> dict:
    """K views for a frozen base with augmentation on; nothing to choose otherwise (the field keeps its default)."""
    if not augment or fine_tune_at is not None:
        return {}
    views = int(st.number_input(
        "Augmented views per image (fast frozen phase; 0 = augment every epoch)", min_value=0, max_value=100,
        value=DEFAULT_VIEWS, step=1, key="augmented_views",
        help="The frozen base's features of this many augmented copies of every training image are computed once; "
             "then only the head trains, each epoch on one of the copies."))
    if views:
        speedup = training.expected_speedup(epochs, views, training.val_per_train(split))
        st.caption(f"An approximation of per-epoch augmentation: each epoch draws one of {views} augmented views "
                   "computed once per image, instead of a fresh augmentation every epoch. Expected speed-up over "
                   f"augmenting every epoch, for {epochs} epochs: about {speedup:.1f}× (the frozen base runs "
                   f"{views}× over the training images once, instead of over training and validation images every "
                   "epoch). Fewer views are faster, more views are closer to per-epoch augmentation; set 0 to "
                   "augment every epoch through the base.")
    return {"augmented_views": views}
