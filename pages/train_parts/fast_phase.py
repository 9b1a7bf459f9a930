"""Train page, fast frozen phase with augmentation: how many augmented views per image, and what that approximates.

UI only: returns the TrainConfig field it collected (tlcore.training.feature_cache does the work).
"""

from __future__ import annotations

import streamlit as st

DEFAULT_VIEWS = 10  # TrainConfig.augmented_views


def augmented_views_option(augment: bool, fine_tune_at: int | None) -> dict:
    """K views for a frozen base with augmentation on; nothing to choose otherwise (the field keeps its default)."""
    if not augment or fine_tune_at is not None:
        return {}
    views = st.number_input(
        "Augmented views per image (fast frozen phase; 0 = augment every epoch)", min_value=0, max_value=100,
        value=DEFAULT_VIEWS, step=1, key="augmented_views",
        help="The frozen base's features of this many augmented copies of every training image are computed once; "
             "then only the head trains, each epoch on one of the copies.")
    if views:
        st.caption(f"An approximation of per-epoch augmentation: each epoch draws one of {int(views)} augmented views "
                   "computed once per image, instead of a fresh augmentation every epoch. Much faster with a frozen "
                   "base; set 0 to augment every epoch through the base.")
    return {"augmented_views": int(views)}
