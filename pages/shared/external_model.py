"""UI for models trained elsewhere: choose a `.keras` file and its class names (Predict), evaluate one (Evaluate).

UI only: loading, checking and evaluating are tlcore.inference.sources calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from pages.shared.auth import current_user
from pages.shared.uploads import upload_once
from tlcore.inference import model_path_under_data_root, parse_class_names, store_upload
from tlcore.layers import BadModelFile
from tlcore.storage import DiskFull, PathOutsideRoot
from pages.shared.user_text import escape_markdown


@dataclass(frozen=True)
class ExternalChoice:
    path: Path
    class_names: list[str]

    @property
    def source(self) -> dict:
        """The model source tasks take (tlcore.inference.sources.predictor_for)."""
        return {"external": str(self.path), "classes": self.class_names}


def pick_external_model(key: str = "external") -> ExternalChoice | None:
    """Upload or path, then class names; shows why a choice cannot be used and returns None until one can."""
    st.caption("A `.keras` file that takes raw RGB pixels (0–255) at a fixed square size and outputs probabilities. "
               "It is loaded in Keras safe mode: models with Lambda layers are refused.")
    left, right = st.columns(2)
    upload = upload_once(f"{key}_upload", "Model file (.keras)",  # streamed to disk, then dropped from the session
                         lambda file: store_upload(file, owner=current_user().id, shown_name=file.name),
                         refusals=(BadModelFile, DiskFull), container=left, type=["keras"])
    typed_path = left.text_input("…or its path under the data root", key=f"{key}_path",
                                 placeholder="models/my-model.keras")
    labels = right.file_uploader("labels.txt (one class a line, in output order)", type=["txt"], key=f"{key}_labels")
    typed_names = right.text_input("…or class names, comma-separated", key=f"{key}_names", placeholder="cat, dog")
    if not (upload or typed_path) or not (labels or typed_names):
        st.info("Choose a model file and give its class names.", icon=":material/info:")
        return None
    try:
        path = upload.value if upload else model_path_under_data_root(typed_path)
        names = parse_class_names(labels.getvalue().decode("utf-8", errors="replace") if labels else typed_names)
        load_checked(path, names, upload.name if upload else Path(typed_path).name)
    except (BadModelFile, PathOutsideRoot, DiskFull) as error:
        st.error(escape_markdown(str(error)), icon=":material/error:")
        return None
    return ExternalChoice(path, names)


def load_checked(path: Path, class_names: list[str], name: str):
    """The Predictor for the file, loaded once per server (cached by path, modification time and class names)."""
    from tlcore.inference import cached_external_predictor

    with st.spinner(f"Loading {name} in safe mode…"):
        try:
            return cached_external_predictor(str(path), path.stat().st_mtime, tuple(class_names))
        except BadModelFile as error:  # an upload is cached under a content hash: name the user's file instead
            raise BadModelFile(str(error).replace(path.name, name, 1)) from error


def external_evaluation_section() -> None:
    """Evaluate an external model on a class-folder dataset, as a background task (end of the Evaluate page)."""
    from pages.shared.auth import start_task_id
    from pages.shared.dataset import current_dataset
    from pages.shared.monitor import task_monitor
    from tlcore import figures

    with st.expander("Evaluate an external model", icon=":material/upload_file:"):
        choice = pick_external_model("eval_external")
        dataset = st.text_input("Dataset folder (class sub-folders named like the classes)", value=current_dataset(),
                                key="eval_external_dataset")
        if choice and st.button("Evaluate external model", key="eval_external_go"):
            st.session_state["eval_external_task"] = start_task_id(
                "evaluate_external", {"model": str(choice.path), "classes": choice.class_names, "dataset": dataset})
        if st.session_state.get("eval_external_task"):
            def show(result: dict) -> None:
                st.metric(f"Accuracy on {result['split']} ({result['images']:,} images)", f"{result['accuracy']:.1%}")
                st.plotly_chart(figures.confusion_cells(result["confusion_matrix"], result["class_names"]),
                                key="eval_external_confusion")

            task_monitor(st.session_state["eval_external_task"], show)
