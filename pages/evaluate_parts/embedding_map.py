"""Evaluate page, UI only: the run's own features on the map (correct/wrong and confidence from its held-out
predictions), the cleaner, and retrain-and-compare once the dataset was cleaned."""

from __future__ import annotations

import streamlit as st

from pages.dataset_parts.embedding_map import METHODS, map_of_task
from pages.dataset_parts.retrain import comparison, retrain_and_compare
from pages.shared.auth import start_task_id
from tlcore import curation
from tlcore.runs import Run


def run_map_section(run: Run) -> None:
    st.header("The run's features on a map")
    dataset = run.config().dataset
    method = METHODS[st.radio("Projection", list(METHODS), horizontal=True, key="eval_map_method")]
    key = f"eval_map_task::{run.id}"
    if st.button("Map this run's features", key="eval_map_compute", icon=":material/scatter_plot:",
                 disabled=not run.model_path.exists()):
        config = curation.EmbedConfig(dataset, run=run.id, method=method)
        st.session_state[key] = start_task_id(curation.TASK_KIND, config.to_dict())
    if not st.session_state.get(key):
        st.session_state[key] = curation.latest_map_task(dataset, run.id)  # the last one, after a reload
    if st.session_state.get(key):
        map_of_task(st.session_state[key], dataset, "evaluate")
    retrain_section(run)


def retrain_section(run: Run) -> None:
    """A retrained run shows its before/after; a run whose split files were moved since offers the retrain."""
    if curation.retrained_from(run) is not None:
        st.subheader("Retrained after cleaning")
        comparison(run)
    try:  # a run whose dataset folder is gone (or was never under this data root) has nothing to retrain on
        if not (curation.changed_files(run) or curation.retrains_of(run.id)):
            return
    except ValueError:
        return
    st.subheader("Retrain on the cleaned dataset")
    retrain_and_compare(run)
