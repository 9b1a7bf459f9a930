"""Evaluate page, UI only: compare runs (differing config fields, metrics, overlaid learning curves) and mark the
best run of a dataset."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from pages.shared.auth import allowed, current_user
from pages.shared.user_text import escape_markdown
from tlcore import actions, evaluation, figures
from tlcore.runs import Run, list_runs


def best_marker(run: Run) -> None:
    dataset = escape_markdown(Path(run.config().dataset).name)  # a folder name: shown as text, never as markup
    if evaluation.is_best(run):
        st.success(f"{evaluation.BEST_BADGE} run for {dataset}", icon=":material/star:")
        if allowed("mark_best", run.owner) and st.button("Unmark best", key=f"unbest_{run.id}"):
            actions.unmark_best(current_user(), run)
            st.rerun()
    elif allowed("mark_best", run.owner) and st.button(
            f"Mark as best for {dataset}", key=f"best_{run.id}", icon=":material/star:",
            help="At most one best run per dataset: the mark moves here from any other run."):
        actions.mark_best(current_user(), run)
        st.rerun()


def compare_section(current: Run, k: int) -> None:
    st.header("Compare runs")
    runs = {run.id: run for run in list_runs() if run.evaluation() is not None}
    badge = {run_id: f"{run_id} · {evaluation.BEST_BADGE}" if evaluation.is_best(run) else run_id
             for run_id, run in runs.items()}
    chosen = st.multiselect("Runs to compare", list(runs), default=[current.id] if current.id in runs else [],
                            format_func=badge.get, key="compare_runs")
    if len(chosen) < 2:
        st.caption("Choose two or more runs to see what differs between them.")
        return
    selected = [runs[run_id] for run_id in chosen]
    table = pd.DataFrame(evaluation.comparison_rows(selected, k))
    st.caption("Only the config fields that differ between these runs are shown.")
    st.dataframe(table, hide_index=True, width="stretch", key="compare_table",
                 column_config={name: st.column_config.NumberColumn(format="%.3f")
                                for name in ("accuracy", "loss", f"top-{k} accuracy", "ECE")})
    curves = evaluation.histories(selected)
    if curves:
        st.plotly_chart(figures.overlaid_learning_curves(curves), key="compare_curves")
