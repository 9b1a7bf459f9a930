"""Retrain and compare, UI only: one button queues a run's config on the cleaned dataset (through tlcore.actions and
the job queue); once that run has finished, before/after on the test files nobody moved, and the test files that were
relabelled or excluded apart. Drawn on the Dataset page (where the cleaning happens) and on the Evaluate page."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.shared import escape_markdown, job_monitor
from pages.shared.auth import allowed, current_user
from tlcore import actions, curation
from tlcore.access import NotAllowed
from tlcore.runs import FINISHED, Run

PERCENT_COLUMNS = ("Before", "After", "Change")
COLUMNS = {"class": "Class", "images": "Images", "before": "Before", "after": "After", "change": "Change",
           "file": "Test file", "now": "Now at", "old_label": "Old label", "new_label": "New label", "label": "Label",
           "before_predicted": "Before: predicted", "after_predicted": "After: predicted"}


def dataset_retrain_section(dataset: str) -> None:
    """On the Dataset page: the finished runs of this dataset that used files moved since, one to retrain."""
    try:
        candidates = curation.retrainable_runs(dataset)
    except ValueError:  # a dataset whose log cannot be read has nothing to retrain on
        return
    if not candidates:
        return
    st.subheader("Retrain on the cleaned dataset")
    labels = {run.id: f"{run.id} ({count} moved file(s))" for run, count in candidates}
    chosen = st.selectbox("Run to retrain", list(labels), format_func=labels.get, key=f"retrain_pick::{dataset}")
    retrain_and_compare(next(run for run, _ in candidates if run.id == chosen))


def retrain_and_compare(run: Run) -> None:
    """The button for `run` (when files of its split were moved) and, for its newest retrain, the comparison."""
    moved = curation.changed_files(run)
    retrains = curation.retrains_of(run.id)
    if moved:
        st.caption(f"{len(moved)} file(s) of run `{run.id}`'s split were relabelled or excluded since. The same "
                   "config trains on the same split with those moves applied, so the test files nobody moved are "
                   "compared before and after.")
        if st.button("Retrain and compare", key=f"retrain_button::{run.id}", icon=":material/restart_alt:",
                     disabled=not allowed("start")):
            try:
                retrains.insert(0, actions.retrain_cleaned(current_user(), run.id))
            except (ValueError, NotAllowed) as error:
                st.error(escape_markdown(str(error)), icon=":material/error:")
    if retrains:
        newest = retrains[0]
        job_monitor(newest.id)
        comparison(newest)


def comparison(after: Run) -> None:
    """Before/after of a retrained run, once it has finished."""
    record = curation.retrained_from(after)
    if record is None:
        return
    st.markdown(f"**Before and after cleaning** (run `{record['before']}` → run `{after.id}`)")
    if after.state != FINISHED:
        st.info("The comparison appears here when the retrained run has finished.", icon=":material/hourglass_top:")
        return
    try:
        result = curation.before_after(after.id)
    except (ValueError, KeyError) as error:
        st.warning(escape_markdown(str(error.args[0] if error.args else error)), icon=":material/warning:")
        return
    left, right, count = st.columns(3)
    if result["before_accuracy"] is not None:
        left.metric("Before (unchanged test files)", f"{result['before_accuracy']:.1%}")
        change = result["after_accuracy"] - result["before_accuracy"]
        right.metric("After (same files)", f"{result['after_accuracy']:.1%}",
                     delta=f"{change:+.1%}" if round(change, 3) else None)
    count.metric("Unchanged test files", result["unchanged_test_images"])
    st.dataframe(pd.DataFrame(result["per_class"]).rename(columns=COLUMNS), hide_index=True, width="stretch",
                 key=f"retrain_per_class::{after.id}",
                 column_config={name: st.column_config.NumberColumn(format="percent") for name in PERCENT_COLUMNS})
    for name, title in (("relabelled_test_files", "Test files that were relabelled (their right answer changed)"),
                        ("excluded_test_files", "Test files that were excluded (not in the after run)")):
        if result[name]:
            st.markdown(f"**{title}**: reported apart, not in either accuracy")
            st.dataframe(pd.DataFrame(result[name]).rename(columns=COLUMNS), hide_index=True, width="stretch", key=f"{name}::{after.id}")
