"""Train page, instant model panel: class prototypes on the chosen base, a finished run in seconds, no training.

UI only: the model is tlcore.labeling.instant (task kind `instant`); the run it makes opens on Predict and Demo.
"""

from __future__ import annotations

import streamlit as st

from pages.shared.auth import start_task_id
from pages.shared.monitor import task_monitor
from pages.shared.user_text import inline_code

TASK_KEY = "instant_task"


def instant_panel(dataset: str, backbone: str, image_size: int, weights: str, seed: int, ready: bool) -> None:
    """An expander with one button; the result names the run and its accuracy, with links to Predict and Demo."""
    task_id = st.session_state.get(TASK_KEY)
    with st.expander("Instant model: predictions without training", expanded=bool(task_id), icon=":material/bolt:"):
        st.caption("Each class becomes the mean direction of its training images' features from this base (a cosine "
                   "prototype); an image gets the class it points at most. Nothing is trained, so it is ready in "
                   "the time one pass over the images takes, and it is a run like any other: evaluated on the test "
                   "split, calibrated, open on Predict and Demo, exportable. Features are cached per image, so "
                   "after you add examples only the new images are computed.")
        if st.button("Make the instant model", key="instant_start", disabled=not ready):
            params = {"dataset": dataset, "backbone": backbone, "image_size": int(image_size), "weights": weights,
                      "seed": int(seed)}
            try:
                task_id = start_task_id("instant", params)
            except ValueError as error:
                st.error(str(error), icon=":material/error:")
            else:
                st.session_state[TASK_KEY] = task_id
        if task_id:
            task_monitor(task_id, _show_result)


def _show_result(result: dict) -> None:
    run_id = result.get("run")
    folds = result.get("cross_validated") or {}
    left, middle, right = st.columns(3)
    left.metric(f"Accuracy on the {result.get('held_out', 'test')} images",
                f"{result['held_out_accuracy']:.1%}" if result.get("held_out_accuracy") is not None else "–")
    if folds.get("prototype") is not None:
        middle.metric(f"Cross-validated, prototypes ({folds['folds']} folds)",
                      f"{folds['prototype']:.1%} ± {folds['prototype_spread']:.1%}")
        right.metric("Cross-validated, 5 nearest neighbours", f"{folds['knn']:.1%} ± {folds['knn_spread']:.1%}")
    else:
        middle.caption(folds.get("message", ""))
    if run_id:
        st.markdown(f"Run {inline_code(run_id)}: [Predict](/predict?run={run_id}) · [Demo](/demo?run={run_id}) · "
                    f"[Evaluate](/evaluate?run={run_id})")
