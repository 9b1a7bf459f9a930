"""The one banner of a background job or task: queued, running (with progress), failed, cancelled or finished.

It polls the run folder with `st.fragment(run_every=...)` only while the job is queued or running, then stops.
"""

from __future__ import annotations

from typing import Callable

import streamlit as st

from pages.shared.auth import allowed, current_user, refusal
from pages.shared.queue import queue_table
from pages.shared.sharing import demo_link
from tlcore import actions, figures, jobs
from tlcore.access import NotAllowed
from tlcore.runs import ACTIVE_STATES, FAILED, INTERRUPTED, Run, dataset_changes, get_run, job_progress, resume_epoch
from pages.shared.user_text import escape_markdown, inline_code

ACTIVE_POLL = "1s"


def job_monitor(run_id: str) -> None:
    """Live progress of a training job, its learning curves, Cancel while active and Resume after a failure."""
    try:
        run = get_run(run_id)
    except KeyError as error:
        st.warning(escape_markdown(str(error.args[0])))
        return
    _poll(run, lambda: get_run(run_id), None)


def task_monitor(task_id: str, render_result: Callable[[dict], None]) -> None:
    """Live progress of a background task; when it has finished, `render_result(result_dict)` draws the outcome."""
    task = get_task(task_id)
    if task is None:
        st.warning(f"No task {inline_code(task_id)} (it may have been removed).")
        return
    _poll(task, lambda: get_task(task_id), render_result)


def get_task(task_id: str) -> Run | None:
    """A background task (measure, probe, …) by id, or None when there is no such task folder."""
    try:
        return jobs.get_task(task_id)
    except KeyError:
        return None


def _poll(folder: Run, reload: Callable[[], Run], render_result) -> None:
    active = jobs.refresh(folder) in ACTIVE_STATES
    st.fragment(_banner, run_every=ACTIVE_POLL if active else None)(reload, active, render_result)


def _banner(reload: Callable[[], Run], was_active: bool, render_result) -> None:
    """One body for jobs and tasks; `render_result` is None for a training job."""
    folder = reload()
    state = jobs.refresh(folder)
    status = folder.status()
    if was_active and state not in ACTIVE_STATES:
        st.rerun()  # it ended: redraw the page without the polling timer
    is_task = render_result is not None
    name = f"Task {inline_code(folder.id)}"
    with st.container(border=not is_task):
        if not is_task:
            st.markdown(f"**Run {inline_code(folder.id)}** — {escape_markdown(state)}")
        if state == "queued":
            ahead = "It starts when the job(s) ahead finish."
            position = jobs.queue_position(folder)
            st.info(f"{name} waits in the queue: position {position}. {ahead}" if is_task else
                    f"Waiting in the queue: position {position}. {ahead}", icon=":material/hourglass_top:")
            with st.expander("Queue"):
                queue_table(key=f"queue_{folder.id}")
        elif state == "running":
            fraction, text = _progress(folder, status, is_task)
            st.progress(fraction, text=text)
        elif state in (FAILED, INTERRUPTED):
            st.error(f"{name if is_task else 'The job'} {state}: {escape_markdown(status.get('error') or 'no details')}",
                     icon=":material/error:")
            if not is_task:
                _dataset_changes(_changes_now(folder))
                if allowed("resume", folder.owner):
                    _resume_button(folder, status)
        elif status.get("damaged"):
            st.error(f"{name if is_task else 'This run'} is damaged: {escape_markdown(status['damaged'])}. Other jobs go "
                     "on.",
                     icon=":material/broken_image:")
        elif state == "cancelled":
            st.warning(f"{name} was cancelled." if is_task else
                       f"Cancelled after {status.get('epochs_done', 0)} completed epoch(s); the model trained so "
                       "far is kept.", icon=":material/cancel:")
        elif state == "finished":
            _finished(folder, status, render_result)
        if state in (*ACTIVE_STATES, "finished", "cancelled") and not is_task:
            _dataset_changes((status.get("dataset_changes") or {}).get("message"))  # found when the job started
        if state in ACTIVE_STATES and (state == "running" or not is_task) and allowed("cancel", folder.owner) and \
                st.button("Cancel task" if is_task else "Cancel job", key=f"cancel_{folder.id}"):
            actions.cancel_job(current_user(), folder)  # tlcore checks the owner again
            st.toast("Cancel requested: the task stops at its next step." if is_task else
                     "Cancel requested: the job stops after its current batch.")
        history = [] if is_task else folder.history()
        if history:
            st.plotly_chart(figures.learning_curves(history), key=f"curves_{folder.id}")


def _progress(folder: Run, status: dict, is_task: bool) -> tuple[float, str]:
    if is_task:
        fraction = min(1.0, max(0.0, float(status.get("progress") or 0.0)))
        return fraction, f"Task {inline_code(folder.id)}: {escape_markdown(status.get('phase') or 'starting')}"
    progress = job_progress(status)
    return progress.fraction, progress.text


def _finished(folder: Run, status: dict, render_result) -> None:
    if render_result is None:
        accuracy = status.get("test_accuracy")
        st.success(f"Finished: test accuracy {accuracy:.1%}" if accuracy is not None else "Finished.",
                   icon=":material/check_circle:")
        if folder.model_path.exists():
            demo_link(folder.id)
        return
    try:
        result = jobs.task_result(folder)
    except ValueError as error:  # result.json damaged: said as such, never raised
        st.error(escape_markdown(str(error)), icon=":material/broken_image:")
        return
    if result is None:
        st.error(f"Task {inline_code(folder.id)} finished without a result file.", icon=":material/error:")
    else:
        render_result(result)


def _dataset_changes(message: str | None) -> None:
    """The dataset folder differs from the run's fixed split: say what was added or removed, and that it is kept."""
    if message:
        st.warning(escape_markdown(message), icon=":material/difference:")


def _changes_now(run: Run) -> str:
    """How the folder differs from the split a resume would use, now; "" when it cannot be read (resuming says why)."""
    try:
        return dataset_changes(run).message()
    except ValueError:
        return ""


def _resume_button(run: Run, status: dict) -> None:
    """Resume an interrupted or failed run where Keras' BackupAndRestore goes on: after its last backed-up epoch
    (status.json's epochs_done can be one ahead of it). Epochs all done: only the evaluation is left."""
    epoch = resume_epoch(run)
    label = f"Resume from epoch {epoch}" if epoch <= (status.get("epochs") or epoch) else "Resume (evaluate)"
    if st.button(label, key=f"resume_{run.id}", icon=":material/play_arrow:"):
        try:
            actions.resume_job(current_user(), run)
        except NotAllowed as error:
            refusal(error)
        except ValueError as error:
            st.error(escape_markdown(str(error)), icon=":material/error:")
        else:
            st.rerun()  # the whole page: the monitor polls again now that the run is queued
