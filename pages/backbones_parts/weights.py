"""Backbones page, ImageNet weights: download with a progress bar when online, upload on an offline server. UI only."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from pages.shared import task_monitor
from pages.shared.auth import allowed, current_user
from pages.shared.uploads import drop_upload, uploader_key
from tlcore import actions, backbones, network
from tlcore.backbones import WeightsFileRejected, status
from tlcore.storage import DiskFull
from pages.shared.user_text import escape_markdown

TRAIN_IMAGE_SIZE_KEY = "last_train_image_size"  # the image size last set on the Train page (pages/train.py)
TRAIN_DEFAULT_SIZE = 96  # the Train page's default for MobileNetV2
_OUTCOME_KEY = "weights_upload_outcome"


def weights_section(selected: list[str]) -> None:
    st.header("ImageNet weights")
    online = network.is_online()  # looked up at call time: tests replace it
    host = network.weights_host()[0]
    if online:
        st.markdown(f"This server can reach `{host}`: download a backbone's weights here. The file is checked "
                    "against the hash Keras publishes for it before it is installed where Keras looks.")
    else:
        st.warning(f"This server is offline: it cannot reach `{host}`, so nothing can be downloaded. Copy the "
                   "weights file from a machine with internet and install it with **Upload a weights file** below.",
                   icon=":material/cloud_off:")
    names = st.multiselect("Backbones", backbones.names(), default=[n for n in selected if n in backbones.REGISTRY],
                           key="weights_names")
    for name in names:
        _weights_row(backbones.get(name), online)
    _upload_form()


def _weights_row(backbone: backbones.Backbone, online: bool) -> None:
    size = backbone.fixed_weights_size or backbone.default_size
    state = status(backbone, size, probe_network=True)
    left, middle, right = st.columns([4, 2, 2], vertical_alignment="center")
    left.markdown(f"**{backbone.name}** · `{state.filename}`")
    middle.markdown(state.label)
    task_key = f"download_task_{backbone.name}"
    if online and not state.cached and allowed("install_weights") and \
            right.button(f"Download {backbone.name}", key=f"download_{backbone.name}"):
        st.session_state[task_key] = actions.start_task(current_user(), "download_weights",
                                                        {"backbone": backbone.name, "image_size": size}).id
    if st.session_state.get(task_key):
        task_monitor(st.session_state[task_key], _show_download)


def _show_download(result: dict) -> None:
    check = "its Keras hash checked" if result["hash_checked"] else "checked by loading it (Keras gives no hash)"
    st.success(f"Installed `{Path(result['path']).name}` ({result['bytes'] / 1e6:,.1f} MB, {check}). "
               f"{result['backbone']} can now use ImageNet backbones.", icon=":material/check_circle:")


def _upload_form() -> None:
    with st.expander("Upload a weights file (offline server)"):
        st.markdown("Upload a weights file (`.h5` or `.weights.h5`) for a backbone without its top; it is checked "
                    "by loading it into that architecture, stored where Keras's own loading accepts it, and "
                    "checked again by building the backbone as training will.")
        upload_name = st.selectbox("Backbone", backbones.names(), index=backbones.names().index("MobileNetV2"),
                                   key="upload_backbone")
        upload_backbone = backbones.get(upload_name)
        train_size = int(st.session_state.get(TRAIN_IMAGE_SIZE_KEY) or TRAIN_DEFAULT_SIZE)  # as on the Train page
        upload_size = st.number_input("Image size you train at (px): the file Keras loads depends on it",
                                      min_value=32, max_value=600, value=max(32, train_size), key="upload_size",
                                      help="The Train page's image size. MobileNet and MobileNetV2 have a weights "
                                           "file per size (96, 128, 160, 192, 224); other sizes load the 224 px one.")
        upload_status = status(upload_backbone, int(upload_size))
        st.caption(f"Expected file: `{upload_status.filename}` — currently **{upload_status.label}**.")
        source = backbones.download_source(upload_status.filename)
        if source:
            check = (f"Keras checks its hash (`{source['file_hash']}`)" if source.get("file_hash")
                     else "Keras checks no hash for it")
            st.markdown(f"Download it on a machine with internet from {source['url']} ({check}).")
        outcome = st.session_state.get(_OUTCOME_KEY)  # the last install's message (its upload is dropped)
        uploaded = st.file_uploader("Weights file", type=["h5"], key=uploader_key("weights_upload"))
        if outcome and uploaded is None:
            (st.success if outcome[0] == "installed" else st.error)(outcome[1], icon=outcome[2])
        if uploaded is not None and allowed("install_weights") and \
                st.button("Validate and install", key="install_weights"):
            with st.spinner("Loading the file into the architecture (starts TensorFlow; ~20 s the first time)…"):
                try:  # the upload is streamed to disk in chunks, then dropped from the session either way
                    path = actions.install_weights(current_user(), upload_backbone, int(upload_size), uploaded)
                except (WeightsFileRejected, DiskFull) as error:
                    outcome = ("refused", escape_markdown(str(error)), ":material/error:")
                else:
                    outcome = ("installed", f"Installed {escape_markdown(uploaded.name)} as `{path.name}`, and "
                               f"{upload_name} built from it as training will. {upload_name} can now use ImageNet "
                               "weights offline.", ":material/check_circle:")
            st.session_state[_OUTCOME_KEY] = outcome
            drop_upload("weights_upload", uploaded)
            st.rerun()
