"""Widgets several pages share: the current dataset, picking a run, and the live job monitor.

UI only: every number comes from a tlcore call.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import streamlit as st

from tlcore import figures, jobs
from tlcore.config import SplitConfig
from tlcore.datasets import DatasetError, DatasetScan, sample_dataset_path, scan_folder
from tlcore.evaluation import BEST_BADGE, is_best
from tlcore.runs import ACTIVE_STATES, FAILED, INTERRUPTED, Run, get_run, list_runs
from tlcore.storage import PathOutsideRoot, data_root

ACTIVE_POLL = "1s"
VIA_APP = "_tlstudio_via_app"
APP_SCRIPT = Path(__file__).resolve().parents[2] / "app.py"


def run_through_app() -> None:
    """Make sure this page runs inside app.py's navigation.

    Because the page scripts live in a folder named `pages/`, Streamlit's legacy multipage discovery serves a deep
    link (`/train?run=…`) on a freshly started server by running the page file alone: no page config, and a sidebar
    of raw file names. Such a run executes app.py instead, whose `st.navigation` then runs this page properly.
    """
    if st.session_state.pop(VIA_APP, False):
        return
    runpy.run_path(str(APP_SCRIPT), run_name="__main__")
    st.stop()


def current_dataset() -> str:
    """The dataset the user is working on: URL first (survives reloads), then the session, then the built-in sample."""
    chosen = st.query_params.get("dataset") or st.session_state.get("dataset")
    if not chosen:
        chosen = str(sample_dataset_path().relative_to(data_root()))
    st.session_state["dataset"] = chosen
    return chosen


def set_dataset(path: str) -> None:
    st.session_state["dataset"] = path
    st.query_params["dataset"] = path


def load_scan(path: str) -> DatasetScan | None:
    """Scan the folder, or show why it cannot be used (and return None)."""
    try:
        return scan_folder(path)
    except (DatasetError, PathOutsideRoot) as error:
        st.error(str(error), icon=":material/error:")
        return None


def dataset_settings():
    """The split and augmentation stored with the current dataset (defaults when it was never configured)."""
    from tlcore.datasets import DatasetSettings, load_settings

    try:
        return load_settings(current_dataset())
    except PathOutsideRoot:
        return DatasetSettings()


def split_config() -> SplitConfig:
    return dataset_settings().split


def augmentation_config():
    """(augment while training?, AugmentConfig) as stored with the current dataset."""
    settings = dataset_settings()
    return settings.augment, settings.augmentation


def pick_run(label: str, predicate=None, key: str = "run_picker") -> Run | None:
    """A run chosen from a select box (newest first), defaulting to the run in the URL."""
    runs = [run for run in list_runs() if predicate is None or predicate(run)]
    if not runs:
        return None
    ids = [run.id for run in runs]
    wanted = st.query_params.get("run") or st.session_state.get("run")
    index = ids.index(wanted) if wanted in ids else 0
    labels = {run.id: f"{run.id} · {run.state}" + (f" · {BEST_BADGE}" if is_best(run) else "") for run in runs}
    chosen = st.selectbox(label, ids, index=index, format_func=labels.get, key=key)
    remember_run(chosen)
    return get_run(chosen)


def remember_run(run_id: str) -> None:
    st.session_state["run"] = run_id
    if st.query_params.get("run") != run_id:
        st.query_params["run"] = run_id


def job_monitor(run_id: str) -> None:
    """Live progress of a job: polls its run folder every second while it is queued or running, then stops."""
    try:
        run = get_run(run_id)
    except KeyError as error:
        st.warning(str(error.args[0]))
        return
    active = jobs.refresh(run) in ACTIVE_STATES
    st.fragment(_monitor_body, run_every=ACTIVE_POLL if active else None)(run_id, active)


def _monitor_body(run_id: str, was_active: bool) -> None:
    run = get_run(run_id)
    state = jobs.refresh(run)
    status = run.status()
    if was_active and state not in ACTIVE_STATES:
        st.rerun()  # the job ended: redraw the page without the polling timer
    with st.container(border=True):
        st.markdown(f"**Run `{run.id}`** — {state}")
        if state == "queued":
            position = jobs.queue_position(run)
            st.info(f"Waiting in the queue: position {position}. It starts when the job(s) ahead finish.",
                    icon=":material/hourglass_top:")
        elif state == "running":
            epochs = status.get("epochs") or 0
            first = status.get("first_epoch", 1)
            epoch, batch, batches = status.get("epoch") or first, status.get("batch") or 0, status.get("batches") or 1
            done = ((epoch - first) + batch / batches) / max(1, epochs - first + 1) if epochs else 0.0
            eta = status.get("eta_seconds")
            st.progress(min(1.0, max(0.0, done)),
                        text=f"{status.get('phase', 'starting')} · epoch {epoch}/{epochs or '?'} · batch "
                             f"{batch}/{batches}" + (f" · about {eta:.0f} s left" if eta is not None else ""))
        elif state in (FAILED, INTERRUPTED):
            st.error(f"The job {state}: {status.get('error', 'no details')}", icon=":material/error:")
            _resume_button(run, status)
        elif state == "cancelled":
            st.warning(f"Cancelled after {status.get('epochs_done', 0)} completed epoch(s); the model trained so far "
                       "is kept.", icon=":material/cancel:")
        elif state == "finished":
            accuracy = status.get("test_accuracy")
            st.success(f"Finished: test accuracy {accuracy:.1%}" if accuracy is not None else "Finished.",
                       icon=":material/check_circle:")
        if state in ACTIVE_STATES and st.button("Cancel job", key=f"cancel_{run.id}"):
            jobs.cancel(run)
            st.toast("Cancel requested: the job stops after its current batch.")
        history = run.history()
        if history:
            st.plotly_chart(figures.learning_curves(history), key=f"curves_{run.id}")


def _resume_button(run: Run, status: dict) -> None:
    """Resume an interrupted or failed run from its last completed epoch (tlcore.training.checkpoints keeps one per epoch)."""
    done = status.get("epochs_done") or 0
    if st.button(f"Resume from epoch {done + 1}", key=f"resume_{run.id}", icon=":material/play_arrow:"):
        try:
            jobs.resume(run)
        except ValueError as error:
            st.error(str(error), icon=":material/error:")
        else:
            st.rerun()  # the whole page: the monitor polls again now that the run is queued


def get_task(task_id: str) -> Run | None:
    """A background task (measure, probe, …) by id, or None when there is no such task folder."""
    from tlcore import jobs

    try:
        return jobs.get_task(task_id)
    except KeyError:
        return None


def task_monitor(task_id: str, render_result) -> None:
    """Live progress of a background task, polling every second only while it is queued or running; when it has
    finished, `render_result(result_dict)` draws the outcome."""
    task = get_task(task_id)
    if task is None:
        st.warning(f"No task '{task_id}' (it may have been removed).")
        return
    active = jobs.refresh(task) in ACTIVE_STATES
    st.fragment(_task_monitor_body, run_every=ACTIVE_POLL if active else None)(task_id, active, render_result)


def _task_monitor_body(task_id: str, was_active: bool, render_result) -> None:
    from tlcore.jobs import task_result

    task = get_task(task_id)
    state = jobs.refresh(task)
    status = task.status()
    if was_active and state not in ACTIVE_STATES:
        st.rerun()  # the task ended: redraw the page without the polling timer
    if state == "queued":
        st.info(f"Task `{task.id}` waits in the queue: position {jobs.queue_position(task)}. It starts when the "
                "job(s) ahead finish.", icon=":material/hourglass_top:")
    elif state == "running":
        st.progress(min(1.0, max(0.0, float(status.get("progress") or 0.0))),
                    text=f"Task `{task.id}`: {status.get('phase') or 'starting'}")
        if st.button("Cancel task", key=f"cancel_{task.id}"):
            jobs.cancel(task)
            st.toast("Cancel requested: the task stops at its next step.")
    elif state in (FAILED, INTERRUPTED):
        st.error(f"Task `{task.id}` {state}: {status.get('error', 'no details')}", icon=":material/error:")
    elif state == "cancelled":
        st.warning(f"Task `{task.id}` was cancelled.", icon=":material/cancel:")
    elif state == "finished":
        result = task_result(task)
        if result is None:
            st.error(f"Task `{task.id}` finished without a result file.", icon=":material/error:")
        else:
            render_result(result)
