"""A dataset's stored settings on the pages: loaded remembering the version this session saw, saved against it.

Two people editing the same dataset's split or augmentation: the second save is refused with the first person's name
(tlcore.datasets.SettingsChanged) instead of silently undoing their change. Who saves is the signed-in user
(`pages.shared.auth.current_user`); the owner and version checks are `tlcore.actions.save_dataset_settings`.
"""

from __future__ import annotations

import streamlit as st

from pages.shared.auth import current_user, refusal
from tlcore import actions
from tlcore.access import NotAllowed
from tlcore.datasets import DatasetSettings, SettingsChanged, load_settings
from tlcore.storage import resolve_dataset_path

__all__ = ["load_dataset_settings", "save_dataset_settings"]


def _seen_key(dataset: str) -> str:
    return f"_tlstudio_settings_seen::{dataset}"


def load_dataset_settings(dataset: str) -> DatasetSettings:
    """The dataset's stored settings, remembering the version this session's widgets were drawn from.

    A later save from this session is checked against that version, not against whatever is stored by then: while
    the settings widgets live (keyed `…::<dataset folder>`) they hold what this person saw, so saving them over a
    newer version would silently undo someone else's change. When none live (first visit, back from another page:
    Streamlit dropped them), they are drawn from what is stored now, so that version is the one seen.
    """
    settings = load_settings(dataset)
    if _widget_keys(dataset):
        st.session_state.setdefault(_seen_key(dataset), settings.version)
    else:
        st.session_state[_seen_key(dataset)] = settings.version
    return settings


def save_dataset_settings(dataset: str, settings) -> None:
    """Store a dataset's split/augmentation as the current user, from the version this session first showed.

    If someone else saved since, this save is refused with their name (tlcore.datasets.SettingsChanged) instead of
    silently replacing their settings; a refusal is shown here, with a button that loads theirs: it forgets the
    version seen and this session's edits (the widgets keyed `…::<dataset folder>`), so the widgets show the
    stored settings again.
    """
    seen_key = _seen_key(dataset)
    seen = st.session_state.setdefault(seen_key, settings.version)
    try:
        saved = actions.save_dataset_settings(current_user(), dataset, settings, expected_version=seen)
    except (NotAllowed, SettingsChanged) as error:
        refusal(error)
        if isinstance(error, SettingsChanged) and st.button("Load their settings", key=f"reload_{seen_key}"):
            _forget_edits(dataset)
            st.rerun()
    else:
        st.session_state[seen_key] = saved.version


def _widget_keys(dataset: str) -> list[str]:
    """This session's live settings widgets of `dataset` (their keys end with `::<dataset folder>`)."""
    try:
        suffix = f"::{resolve_dataset_path(dataset)}"
    except (OSError, ValueError):  # PathOutsideRoot is a ValueError: nothing of it was shown
        return []
    return [key for key in st.session_state if isinstance(key, str) and key.endswith(suffix)]


def _forget_edits(dataset: str) -> None:
    st.session_state.pop(_seen_key(dataset), None)
    for key in _widget_keys(dataset):
        del st.session_state[key]
