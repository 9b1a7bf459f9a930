"""The dataset the user works on (kept in the URL), its scan, and the split and augmentation stored with it.

The name comes from the URL (`?dataset=`), so it is user text: it is checked by tlcore before use (a NUL byte or
5,000 characters get a message, never a traceback) and shown only escaped or as code, never as Markdown.
"""

from __future__ import annotations

import streamlit as st

from pages.shared.user_text import escape_markdown, inline_code
from tlcore.config import SplitConfig
from tlcore.datasets import DatasetError, DatasetScan, DatasetSettings, load_settings, sample_dataset_path, scan_folder
from tlcore.storage import PathOutsideRoot, data_root


def current_dataset() -> str:
    """The dataset the user is working on: URL first (survives reloads), then the session, then the built-in sample."""
    chosen = st.query_params.get("dataset") or st.session_state.get("dataset")
    if not chosen:
        chosen = str(sample_dataset_path().relative_to(data_root()))
    st.session_state["dataset"] = chosen
    return chosen


def dataset_label(name: str) -> str:
    """The dataset's name for Markdown text: verbatim in a code span, cut when absurdly long."""
    return inline_code(name)


def set_dataset(path: str) -> None:
    st.session_state["dataset"] = path
    st.query_params["dataset"] = path


def load_scan(path: str) -> DatasetScan | None:
    """Scan the folder, or show why it cannot be used (and return None)."""
    try:
        return scan_folder(path)
    except (DatasetError, PathOutsideRoot) as error:
        st.error(escape_markdown(str(error)), icon=":material/error:")
        return None


def dataset_settings():
    """The split and augmentation stored with the current dataset (defaults when it was never configured)."""
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
