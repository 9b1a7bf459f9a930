"""Choosing a run: a select box of runs (newest first, best marked), remembered in the URL across reloads."""

from __future__ import annotations

import streamlit as st

from tlcore.evaluation import BEST_BADGE, is_best
from tlcore.runs import Run, get_run, list_runs, readable_name


def pick_run(label: str, predicate=None, key: str = "run_picker") -> Run | None:
    """A run chosen from a select box (newest first), defaulting to the run in the URL."""
    runs = [run for run in list_runs() if predicate is None or predicate(run)]
    if not runs:
        return None
    ids = [run.id for run in runs]
    wanted = st.query_params.get("run") or st.session_state.get("run")
    index = ids.index(wanted) if wanted in ids else 0
    labels = {run.id: f"{run.id} · {_readable(run)} · {run.state}" + (f" · {BEST_BADGE}" if is_best(run) else "")
              for run in runs}
    chosen = st.selectbox(label, ids, index=index, format_func=labels.get, key=key)
    remember_run(chosen)
    return get_run(chosen)


def remember_run(run_id: str) -> None:
    st.session_state["run"] = run_id
    if st.query_params.get("run") != run_id:
        st.query_params["run"] = run_id


def _readable(run: Run) -> str:
    """The run's readable name (backbone, size, phase, parent): status.json's `name`, or made from its config."""
    name = run.status().get("name")
    if name:
        return str(name)
    try:
        return readable_name(run.config())
    except (OSError, ValueError, KeyError, TypeError):
        return "config unreadable"
