"""Train page, fast frozen phase with augmentation: how many augmented views per image, what that approximates and
how much faster it is expected to be.

UI only: returns the TrainConfig field it collected (tlcore.training.feature_cache does the work, the estimate and
the automatic choice are tlcore.training.expected_speedup and suggested_views).
"""

from __future__ import annotations

import streamlit as st

from tlcore import training
from tlcore.config import SplitConfig


def augmented_views_option(augment: bool, fine_tune_at: int | None, epochs: int, split: SplitConfig) -> dict:
    """K views for a frozen base with augmentation on (blank: automatic for the epochs); nothing to choose
    otherwise (the field keeps its default)."""
    if not augment or fine_tune_at is not None:
        return {}
    share = training.val_per_train(split)
    automatic = training.suggested_views(epochs, share)
    chosen = st.number_input(
        "Augmented views per image (fast frozen phase; 0 = augment every epoch)", min_value=0, max_value=100,
        value=None, step=1, key="augmented_views", placeholder=f"automatic: {automatic} for {epochs} epochs",
        help="The frozen base's features of this many augmented copies of every training image are computed once; "
             "then only the head trains, each epoch on one of the copies. Blank: automatic.")
    views = automatic if chosen is None else int(chosen)
    if views:
        speedup = training.expected_speedup(epochs, views, share)
        why = (f"Automatic: {views}, the most views that keep the expected speed-up at 5× or more for {epochs} "
               "epochs (K views cost the base about as much as K augmented epochs; on the digits benchmark, 10 views "
               "came no closer to per-epoch augmentation's validation accuracy than 1). "
               "Type a number to choose. " if chosen is None else "")
        st.caption(f"{why}An approximation of per-epoch augmentation: each epoch draws one of {views} augmented "
                   "views computed once per image, instead of a fresh augmentation every epoch. Expected speed-up "
                   f"over augmenting every epoch, for {epochs} epochs: about {speedup:.1f}× (the frozen base runs "
                   f"{views}× over the training images once, instead of over training and validation images every "
                   "epoch). Fewer views are faster, more views are closer to per-epoch augmentation; set 0 to "
                   "augment every epoch through the base.")
    return {"augmented_views": None if chosen is None else views}
