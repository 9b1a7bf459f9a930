"""Train page, fast frozen phase with augmentation: how many augmented views per image, what that approximates and
how much faster it is expected to be.

UI only: returns the TrainConfig field it collected (tlcore.training.feature_cache does the work; the estimate, the
hint and the measured cost are tlcore.training.expected_speedup, suggested_views and MEASURED_POINTS).
"""

from __future__ import annotations

import streamlit as st

from tlcore import training
from tlcore.config import SplitConfig


def augmented_views_option(augment: bool, fine_tune_at: int | None, epochs: int, split: SplitConfig) -> dict:
    """K views for a frozen base with augmentation on (0, the default: augment every epoch); nothing to choose
    otherwise (the field keeps its default)."""
    if not augment or fine_tune_at is not None:
        return {}
    share = training.val_per_train(split)
    views = int(st.number_input(
        "Augmented views per image (fast frozen phase; 0 = augment every epoch)", min_value=0, max_value=100,
        value=0, step=1, key="augmented_views",
        help="K > 0: the frozen base's features of K augmented copies of every training image are computed once; "
             "then only the head trains, each epoch on one of the copies. Faster, and an approximation."))
    measured = ", ".join(f"{k} view{'s' if k > 1 else ''} {points:+.0f}" for k, points in training.MEASURED_POINTS)
    cost = (f"In the benchmark (10 epochs, a base pretrained on other images of the same classes) it cost validation "
            f"accuracy against augmenting every epoch: {measured} points.")
    if not views:
        hint = training.suggested_views(epochs, share)
        st.caption(f"Augmenting every epoch through the base: exact. A number of views K trains faster instead, on "
                   f"K augmented copies per image computed once: for {epochs} epochs, {hint} view"
                   f"{'s' if hint > 1 else ''} would be about {training.expected_speedup(epochs, hint, share):.1f}× "
                   f"faster. {cost}")
        return {"augmented_views": 0}
    speedup = training.expected_speedup(epochs, views, share)
    st.caption(f"An approximation of per-epoch augmentation: each epoch draws one of {views} augmented views "
               "computed once per image, instead of a fresh augmentation every epoch. Expected speed-up over "
               f"augmenting every epoch, for {epochs} epochs: about {speedup:.1f}× (the frozen base runs {views}× over "
               "the training images once, instead of over training and validation images every epoch). Fewer views "
               f"are faster, more views are closer to per-epoch augmentation. {cost} Set 0 to augment every epoch.")
    return {"augmented_views": views}
