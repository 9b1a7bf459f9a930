"""Dataset page, "Add & label" tab: examples from the camera or uploads into a class, and the labeling queue.

UI only: files are written and moved by tlcore.actions (owner rule, audit) over tlcore.labeling; the queue's margin
order comes from the `label_order` task (a run's predictions, computed in a job process).
"""

from __future__ import annotations

import streamlit as st

from pages.shared.auth import current_user, start_task_id
from pages.shared.monitor import get_task, task_monitor
from pages.shared.user_text import escape_markdown, inline_code
from tlcore import actions, figures, labeling
from tlcore.datasets import DatasetScan
from tlcore.runs import ACTIVE_STATES, FINISHED, list_runs

NEW_CLASS = "New class…"
ORDER_LABELS = {"margin": "Least confident first", "random": "Random", "name": "By file name"}
SHORTCUT_CLASSES = 9  # number keys 1-9 label the first nine classes
REFRESH_EVERY_LABELS = 10  # the queue refreshes the instant model after this many labels
_ORDER_TASK, _SKIPPED, _ADDED, _ROUND = "label_order_task", "label_skipped", "examples_added", "examples_round"
_REFRESH, _LABELS_SINCE = "instant_refresh_task", "labels_since_refresh"
_REFUSALS = (labeling.ExampleRefused, labeling.LabelingRefused, PermissionError, ValueError)


def add_examples_section(dataset: str) -> None:
    """Pick a class (or name a new one), then a camera snapshot or uploads; works on a folder with no classes yet."""
    st.subheader("Add examples")
    choice = st.selectbox("Class to add examples to", [*labeling.class_folders(dataset), NEW_CLASS],
                          key="examples_class")
    class_name = st.text_input("New class name", key="examples_new_class") if choice == NEW_CLASS else choice
    round_ = st.session_state.setdefault(_ROUND, 0)  # a new key after each add: the widgets come back empty
    photo = None
    if st.toggle("Use the camera", key="examples_use_camera",
                 help="Off until asked: the browser opens the camera only while this is on."):
        photo = st.camera_input("Take a photo (one snapshot per click)", key=f"examples_camera_{round_}")
        st.caption("The camera works when the app is opened on localhost or over HTTPS; if the browser blocked it, "
                   "allow it from the address bar, or upload images below instead.")
    uploads = st.file_uploader("Or upload images", type=["png", "jpg", "jpeg", "bmp", "gif", "webp"],
                               accept_multiple_files=True, key=f"examples_uploads_{round_}")
    batches = {"camera": [photo.getvalue()] if photo is not None else [],
               "upload": [upload.getvalue() for upload in uploads or []]}
    count = sum(len(images) for images in batches.values())
    if st.button(f"Add {count} image(s) to this class", disabled=not (count and class_name), key="examples_add"):
        try:
            added = [example for source, images in batches.items() if images
                     for example in actions.add_examples(current_user(), dataset, class_name, images, source)]
        except _REFUSALS as error:
            st.error(escape_markdown(str(error)), icon=":material/error:")
        else:
            st.session_state[_ADDED] = f"Added {len(added)} image(s) to {inline_code(class_name)}. " + \
                _refresh_instant_model(dataset)
            st.session_state[_ROUND] = round_ + 1
            st.rerun()  # the scan, the class list and the counts above now include them
    if _ADDED in st.session_state:
        st.success(st.session_state.pop(_ADDED), icon=":material/add_photo_alternate:")
    _instant_model_section(dataset)


def _refresh_instant_model(dataset: str) -> str:
    """Make the instant model again with its last settings on this dataset (a task: features come from the cache,
    only new images are computed); returns the sentence that tells the user what happens."""
    config = labeling.latest_instant_config(dataset)
    if config is None:
        return "Make the instant model (Train page) to see its accuracy with them."
    running = st.session_state.get(_REFRESH)
    if running and (task := get_task(running)) is not None and task.state in ACTIVE_STATES:
        return "The instant model is still refreshing; the next add or label refreshes it again."
    task_id = start_task_id("instant", config.to_dict())
    if task_id is None:
        return ""
    st.session_state[_REFRESH] = task_id
    return "The instant model is refreshing with them (features of the new images only)."


def _instant_model_section(dataset: str) -> None:
    """The refresh in progress (then its accuracy), and the accuracy after each refresh so far on this dataset."""
    task_id = st.session_state.get(_REFRESH)
    if task_id:
        task_monitor(task_id, _show_refresh)
    curve = labeling.instant_curve(dataset)
    if len(curve) >= 2:
        st.plotly_chart(figures.labeling_curve(curve), key="labeling_curve")


def _show_refresh(result: dict) -> None:
    accuracy = result.get("held_out_accuracy")
    st.metric(f"Instant model, accuracy on the {result.get('held_out', 'test')} images",
              f"{accuracy:.1%}" if isinstance(accuracy, (int, float)) else "–")
    if result.get("run"):
        st.markdown(f"Run {inline_code(result['run'])}: [Predict](/predict?run={result['run']}) · "
                    f"[Demo](/demo?run={result['run']})")


def labeling_queue_section(dataset: str, scan: DatasetScan) -> None:
    st.subheader("Label the queue")
    waiting = labeling.unlabeled_files(dataset)
    st.caption(f"Images in the dataset's {inline_code(labeling.UNLABELED + '/')} folder wait here; each label moves "
               "one into its class folder (logged, undoable). Finished runs keep their own split.")
    if not waiting:
        st.info(f"No unlabeled images. Put some in {inline_code(labeling.UNLABELED + '/')} inside the dataset "
                "folder.", icon=":material/inbox:")
        return
    order = st.radio("Order", list(ORDER_LABELS), format_func=ORDER_LABELS.get, horizontal=True, key="label_order")
    guesses: dict[str, list] = {}
    if order == "margin":
        ordered, guesses = _margin_order(dataset, waiting)
        if ordered is None:
            return
    else:
        ordered = [waiting[index] for index in labeling.queue_order(len(waiting), order, seed=0)]
    skipped = st.session_state.setdefault(_SKIPPED, [])
    present = set(waiting)
    queue = [path for path in ordered if path in present and path not in skipped] + \
        [path for path in skipped if path in present]
    current = queue[0]
    st.markdown(f"{len(waiting):,} left · {inline_code(current)}")
    root = scan.root
    st.image(str(root / current), width=320)
    if current in guesses:
        st.caption("Model's guesses: " + ", ".join(f"{escape_markdown(name)} {p:.0%}" for name, p in guesses[current]))
    columns = st.columns(min(len(scan.class_names), 5) or 1)
    for index, name in enumerate(scan.class_names):
        shortcut = str(index + 1) if index < SHORTCUT_CLASSES else None
        label = f"{index + 1} · {name}" if shortcut else name
        if columns[index % len(columns)].button(label, key=f"label_as_{index}", shortcut=shortcut):
            _apply(lambda: actions.label_image(current_user(), dataset, current, name), dataset)
    left, right = st.columns(2)
    if left.button("Skip (S)", key="label_skip", shortcut="s"):
        skipped.append(current)
        st.rerun()
    if right.button("Undo my last label (U)", key="label_undo", shortcut="u"):
        _apply(lambda: actions.undo_label(current_user(), dataset))


def _apply(action, labeled_in: str | None = None) -> None:
    """Run a label or undo; after every REFRESH_EVERY_LABELS labels in `labeled_in`, refresh the instant model."""
    try:
        action()
    except _REFUSALS as error:
        st.error(escape_markdown(str(error)), icon=":material/error:")
    else:
        if labeled_in is not None:
            count = st.session_state.get(_LABELS_SINCE, 0) + 1
            if count >= REFRESH_EVERY_LABELS:
                count, refreshed = 0, _refresh_instant_model(labeled_in)
                if refreshed:
                    st.session_state[_ADDED] = f"{REFRESH_EVERY_LABELS} images labeled. {refreshed}"
            st.session_state[_LABELS_SINCE] = count
        st.rerun()


def _margin_order(dataset: str, waiting: list[str]) -> tuple[list[str] | None, dict[str, list]]:
    """The queue ordered by a run's margin (from the label_order task), or None while there is none yet."""
    runs = [run for run in list_runs((FINISHED,)) if run.model_path.exists() and _on_dataset(run, dataset)]
    if not runs:
        st.info("Least-confident order needs a model on this dataset: make the instant model on the Train page "
                "(seconds, no training), or choose Random.", icon=":material/bolt:")
        return None, {}
    run = st.selectbox("Model that orders the queue", runs, format_func=lambda each: each.id, key="label_order_run")
    task_id = st.session_state.get(_ORDER_TASK)
    if st.button("Order by this model's confidence", key="label_order_start"):
        task_id = start_task_id("label_order", {"dataset": dataset, "run": run.id, "order": "margin"})
        st.session_state[_ORDER_TASK] = task_id
    result: dict = {}
    if task_id:
        task_monitor(task_id, result.update)
    if not result.get("items"):
        return None, {}
    ordered = [item["path"] for item in result["items"]]
    return ordered + [path for path in waiting if path not in set(ordered)], \
        {item["path"]: item["guesses"] for item in result["items"]}


def _on_dataset(run, dataset: str) -> bool:
    try:
        return run.config().dataset == dataset
    except (OSError, ValueError, TypeError):
        return False
