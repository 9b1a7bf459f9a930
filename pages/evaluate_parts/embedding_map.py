"""Evaluate page, UI only: the run's own features on the map (correct/wrong and confidence from its held-out
predictions), the cleaner, and retrain-and-compare once the dataset was cleaned."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.dataset_parts.embedding_map import METHODS, map_of_task
from pages.shared import escape_markdown, job_monitor
from pages.shared.auth import current_user, start_task_id
from tlcore import actions, curation
from tlcore.access import NotAllowed
from tlcore.runs import FINISHED, Run


def run_map_section(run: Run) -> None:
    st.header("The run's features on a map")
    dataset = run.config().dataset
    method = METHODS[st.radio("Projection", list(METHODS), horizontal=True, key="eval_map_method")]
    key = f"eval_map_task::{run.id}"
    if st.button("Map this run's features", key="eval_map_compute", icon=":material/scatter_plot:",
                 disabled=not run.model_path.exists()):
        config = curation.EmbedConfig(dataset, run=run.id, method=method)
        st.session_state[key] = start_task_id(curation.TASK_KIND, config.to_dict())
    if st.session_state.get(key):
        map_of_task(st.session_state[key], dataset, "evaluate")
    retrain_section(run)


def retrain_section(run: Run) -> None:
    """Queue the same config on the cleaned split; for a retrained run, before/after on the unchanged test files."""
    record = curation.retrained_from(run)
    if record is not None:
        _comparison(run, record)
        return
    try:  # a run whose dataset folder is gone (or was never under this data root) has nothing to retrain on
        dataset = run.config().dataset
        moved = {} if curation.is_read_only(dataset) else curation.moved_files(dataset)
    except ValueError:
        return
    split = run.split()
    used = {path for path, _ in (split.train + split.val + split.test)} if split else set()
    changed = [path for path in moved if path in used]
    if not changed:
        return
    st.subheader("Retrain on the cleaned dataset")
    st.caption(f"{len(changed)} file(s) of this run's split were relabelled or excluded since. The same config "
               "trains on the same split with those moves applied, so the test files nobody moved are compared "
               "before and after.")
    key = f"retrain::{run.id}"
    if st.button("Retrain and compare", key="retrain_button", icon=":material/restart_alt:"):
        try:
            st.session_state[key] = actions.retrain_cleaned(current_user(), run.id).id
        except (ValueError, NotAllowed) as error:
            st.error(escape_markdown(str(error)), icon=":material/error:")
    if st.session_state.get(key):
        job_monitor(st.session_state[key])
        st.caption(f"Pick run `{st.session_state[key]}` above when it has finished to see before and after.")


def _comparison(run: Run, record: dict) -> None:
    st.subheader(f"Before and after cleaning (run `{record['before']}` → this run)")
    if run.state != FINISHED:
        st.info("The comparison appears when this run has finished.", icon=":material/hourglass_top:")
        return
    try:
        result = curation.before_after(run.id)
    except (ValueError, KeyError) as error:
        st.warning(escape_markdown(str(error.args[0] if error.args else error)), icon=":material/warning:")
        return
    left, right, count = st.columns(3)
    if result["before_accuracy"] is not None:
        left.metric("Before (unchanged test files)", f"{result['before_accuracy']:.1%}")
        right.metric("After", f"{result['after_accuracy']:.1%}",
                     delta=f"{result['after_accuracy'] - result['before_accuracy']:+.1%}")
    count.metric("Unchanged test files", result["unchanged_test_images"])
    st.dataframe(pd.DataFrame(result["per_class"]), hide_index=True, width="stretch", key="retrain_per_class",
                 column_config={name: st.column_config.NumberColumn(format="percent")
                                for name in ("before", "after", "change")})
    if result["relabelled_test_files"]:
        st.markdown("**Test files that were relabelled** (reported apart: their right answer changed)")
        st.dataframe(pd.DataFrame(result["relabelled_test_files"]), hide_index=True, width="stretch",
                     key="retrain_relabelled")
