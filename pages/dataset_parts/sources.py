"""Dataset page, UI only: where the images come from (built-in sample, a server folder, a .zip upload, TFDS)."""

from __future__ import annotations

import streamlit as st

from pages.shared import escape_markdown, inline_code, set_dataset, task_monitor
from pages.shared.auth import current_user, start_task_id
from pages.shared.uploads import forget_upload, upload_once
from tlcore import actions
from tlcore.access import NotAllowed
from tlcore.datasets import CATALOG, SAMPLE_NAME, folder_name, is_ready, offline_message, sample_dataset_path
from tlcore.storage import ArchiveError, DiskFull, ZipCaps, data_root

BUILTIN, FOLDER, UPLOAD, TFDS = ("Built-in sample: handwritten digits", "Folder on this server", "Upload a .zip",
                                 "TensorFlow Datasets")
_PENDING = "dataset_pending"


def choose_dataset(current: str) -> str | None:
    """The dataset folder (relative to the data root) the user picked, or None while nothing is chosen yet."""
    pending = st.session_state.pop(_PENDING, None)
    if pending:  # set before the widgets exist: Streamlit refuses changes to a widget's state after it is drawn
        st.session_state["dataset_source"], st.session_state["dataset_folder"] = FOLDER, pending
    # Keyed: an unkeyed widget's identity includes its default, which follows `current`, so the first click or text
    # typed after a dataset change was reset to the new default and lost.
    source = st.radio("Source", [BUILTIN, FOLDER, UPLOAD, TFDS], horizontal=True,
                      index=0 if current == SAMPLE_NAME else 1, key="dataset_source")
    if source == BUILTIN:
        return str(sample_dataset_path().relative_to(data_root()))
    if source == UPLOAD:
        return _upload()
    if source == TFDS:
        return _tfds()
    return _folder(current)


def _switch_to_folder(relative: str) -> None:
    st.session_state[_PENDING] = relative
    set_dataset(relative)
    st.rerun()


def _folder(current: str) -> str | None:
    root = data_root()
    folders = sorted(entry.name for entry in root.iterdir() if entry.is_dir() and not entry.name.startswith("."))
    st.caption("The data root is the folder this server reads datasets from. A dataset is a folder in it with one "
               "sub-folder per class (`my-pets/cats/*.jpg`), or `train/`, `val/` (or `valid/`) and `test/` folders "
               "each holding the class folders; such a split is used as is.")
    typed = st.text_input("Folder (under the data root)", value=current if current != SAMPLE_NAME else "",
                          placeholder=folders[0] if folders else "my-images", key="dataset_folder")
    if folders:
        st.caption("Folders here: " + ", ".join(inline_code(name) for name in folders))
    return typed.strip() or None


def _upload() -> None:
    caps = ZipCaps()
    stored = upload_once(
        "dataset_zip", "Dataset .zip (class folders, or train/ val/ test/ folders of class folders)",
        lambda uploaded: actions.upload_dataset(current_user(), uploaded, uploaded.name, caps=caps),  # uploader kept
        refusals=(ArchiveError, DiskFull, NotAllowed), icon=":material/folder_zip:", type="zip")
    st.caption(f"Unpacked into the data root. Refused: paths that leave the zip's folder, names that collide once "
               f"unpacked, encrypted or damaged entries, more than {caps.max_files:,} files, more than "
               f"{caps.max_total_bytes / 1024**3:.0f} GB unpacked, or compression no image reaches "
               f"({caps.max_ratio:.0f}× per file, {caps.max_archive_ratio:.0f}× for the zip).")
    if stored is None:
        return None
    forget_upload("dataset_zip")  # unpacked: the next visit to this tab starts with an empty uploader
    relative = str(stored.value.relative_to(data_root()))
    st.toast(f"Unpacked {escape_markdown(stored.name)} as {inline_code(relative)} in the data root")
    _switch_to_folder(relative)


def _tfds() -> None:
    name = st.selectbox("TensorFlow Datasets name", list(CATALOG), key="tfds_name",
                        format_func=lambda key: f"{key} — {CATALOG[key].title} (download ≈{CATALOG[key].download_mb} MB)")
    if is_ready(name):
        st.success(f"`{name}` is on this server as `{folder_name(name)}`.", icon=":material/check_circle:")
        if st.button("Use it", key="tfds_use"):
            _switch_to_folder(folder_name(name))
        return None
    from tlcore.network import is_online

    online = is_online()
    if not online:
        st.warning(offline_message(name), icon=":material/cloud_off:")
    if st.button(f"Download {name}", disabled=not online, key="tfds_download"):
        st.session_state["tfds_task"] = start_task_id("tfds", {"name": name})
    if st.session_state.get("tfds_task"):
        task_monitor(st.session_state["tfds_task"], _tfds_done)
    return None


def _tfds_done(result: dict) -> None:
    st.success(f"Written as `{result['dataset']}` under the data root.", icon=":material/check_circle:")
    if st.button("Use it", key="tfds_use_new"):
        st.session_state.pop("tfds_task", None)
        _switch_to_folder(result["dataset"])
