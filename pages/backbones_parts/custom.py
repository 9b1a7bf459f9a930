"""Backbones page, your own model as a backbone: pick a run's model or upload one, cut it, save the base. UI only.

Loading a model needs TensorFlow, so it happens only when the user asks to see the layers (the page itself starts
without it).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.backbones_parts.own_model import run_as_backbone_button
from pages.shared.auth import current_user
from pages.shared.uploads import upload_once
from tlcore import actions, backbones
from tlcore.layers import BadModelFile
from tlcore.runs import get_run, list_runs
from tlcore.storage import DiskFull
from pages.shared.user_text import escape_markdown

PREPROCESS_LABELS = {"none": "none: the model scales its input itself (or took raw 0–255 pixels)",
                     "scale01": "scale to [0, 1] (x / 255: a lab CNN trained after Rescaling(1/255))",
                     "tf": "scale to [-1, 1]", "torch": "ImageNet mean / std", "caffe": "BGR minus ImageNet mean"}


def custom_section() -> None:
    st.header("Your own model as a backbone")
    st.markdown("Train a CNN (or bring one), then transfer it: choose a `.keras` model, the layer to cut at, and "
                "everything up to that layer becomes a base you can pick on **Train**, with its own trained "
                "weights. Uploaded models load in Keras safe mode, so a file with code in it is refused.")
    _cut_form()
    _existing()  # after the form: a backbone saved in this run is listed at once


def _cut_form() -> None:
    model_path, source = _pick_model()
    if model_path is None:
        return
    inspected = st.session_state.setdefault("custom_inspected", {})
    if str(model_path) not in inspected:
        if not st.button("Show its layers", key="custom_inspect"):
            return
        with st.spinner("Loading the model (starts TensorFlow; ~20 s the first time)…"):
            try:
                inspected[str(model_path)] = backbones.inspect_model(model_path)
            except BadModelFile as error:
                st.error(escape_markdown(str(error)), icon=":material/error:")
                return
    points, suggested = inspected[str(model_path)]
    if not points:
        st.error("This model has no layer with an image-shaped output (height × width × channels) to cut at.",
                 icon=":material/error:")
        return
    labels = {point.name: point.label for point in points}
    cut_at = st.selectbox("Cut after layer (output shape, parameters up to there)", list(labels),
                          index=len(points) - 1, format_func=labels.get, key="custom_cut")
    preprocess = st.selectbox("Input preprocessing", list(PREPROCESS_LABELS),
                              index=list(PREPROCESS_LABELS).index(suggested), format_func=PREPROCESS_LABELS.get,
                              key="custom_preprocess", help="Suggested from the model: a run's model keeps the "
                                                            "preprocessing it was trained with.")
    name = st.text_input("Name (lower-case letters, digits, - or _)", key="custom_name")
    if st.button("Save as backbone", key="custom_save", disabled=not name):
        try:
            backbone = actions.create_custom_backbone(current_user(), name, model_path, cut_at, source, preprocess)
        except (ValueError, BadModelFile, PermissionError) as error:
            st.error(escape_markdown(str(error)), icon=":material/error:")
        else:
            st.success(f"Saved **{backbone.name}** ({source}, cut after `{cut_at}`): choose it as the backbone on "
                       "**Train**.", icon=":material/check_circle:")


def _existing() -> None:
    names = backbones.custom_names()
    if names:
        rows = [{"Backbone": b.name, "From": b.source, "Cut after": b.cut_at, "Input (px)": b.input_size or "any",
                 "Preprocessing": b.preprocess} for b in map(backbones.get, names)]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="custom_table")


def _pick_model():
    """(path of the chosen .keras model, a description of where it came from), or (None, None)."""
    origin = st.radio("Model", ["run", "upload"], horizontal=True, key="custom_origin",
                      format_func={"run": "from an earlier run", "upload": "upload a .keras file"}.get)
    if origin == "run":
        run_ids = [run.id for run in list_runs() if run.model_path.exists()]
        if not run_ids:
            st.info("No run has a saved model yet: train one on **Train**, or upload a model.",
                    icon=":material/info:")
            return None, None
        run_id = st.selectbox("Run", run_ids, key="custom_run")
        run_as_backbone_button(run_id, get_run(run_id).model_path)  # the lab's cut in one click; the form: any cut
        return get_run(run_id).model_path, f"run {run_id}"
    stored = upload_once("custom_upload", "Model file",  # checked, streamed to disk, then dropped from the session
                         lambda file: backbones.save_model_upload(file.name, file, owner=current_user().id),
                         refusals=(BadModelFile, DiskFull), type=["keras"])
    if stored is None:
        return None, None
    return stored.value, f"uploaded {stored.name}"
