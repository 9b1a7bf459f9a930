"""Uploads kept once, then let go: the file goes to disk (a tlcore call streams it in chunks), then Streamlit's copy of
its bytes and the widget holding it are dropped, so later reruns of the session do not keep a 400 MB zip in memory.

The page remembers only what was stored (a path, a folder, a small summary) and the uploader's file name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import streamlit as st

from pages.shared.user_text import escape_markdown

__all__ = ["StoredUpload", "uploader_key", "drop_upload", "upload_once", "forget_upload"]


@dataclass(frozen=True)
class StoredUpload:
    """What a stored upload left in the session: `value` is what the store call returned (a path, a summary)."""

    value: Any
    name: str  # the uploader's file name
    size_bytes: int


def uploader_key(key: str) -> str:
    """The uploader's widget key now: `key` itself until an upload is dropped, then a new one each time (a widget
    under a new key starts empty, and the old key's state is removed at the end of the next run)."""
    generation = st.session_state.get(_generation_key(key), 0)
    return key if generation == 0 else f"{key}__{generation}"


def drop_upload(key: str, uploaded) -> None:
    """Let go of an upload that is stored: Streamlit's in-memory copy of its bytes is removed now, and the uploader
    `key` comes back empty on the next rerun. `uploaded` is one UploadedFile or a list of them."""
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    context = get_script_run_ctx()
    manager = context.uploaded_file_mgr if context is not None else None
    for file in uploaded if isinstance(uploaded, list) else [uploaded]:
        if isinstance(manager, MemoryUploadedFileManager) and getattr(file, "file_id", None):
            manager.remove_file(session_id=context.session_id, file_id=file.file_id)
        file.close()  # the UploadedFile's own buffer
    st.session_state.pop(uploader_key(key), None)  # the widget's value (Streamlit drops it later, not always at once)
    st.session_state[_generation_key(key)] = st.session_state.get(_generation_key(key), 0) + 1


def upload_once(key: str, label: str, store: Callable[[Any], Any], *, refusals: tuple[type[BaseException], ...],
                container=None, icon: str = ":material/error:", **uploader_options) -> StoredUpload | None:
    """An uploader whose file is stored once by `store(uploaded)` and then dropped from the session.

    Stored: the uploader is replaced by its file name and a "Choose another file" button, and the StoredUpload is
    returned on every rerun until then. Refused (`store` raised one of `refusals`): the file is dropped as well and
    the message stays under an empty uploader until the next upload. Returns None while nothing is stored.
    """
    holder = container if container is not None else st
    stored: StoredUpload | None = st.session_state.get(_stored_key(key))
    if stored is not None:
        holder.caption(f"Stored on the server: {escape_markdown(stored.name)} ({_size(stored.size_bytes)}).")
        if holder.button("Choose another file", key=f"{key}__another", icon=":material/upload_file:"):
            forget_upload(key)
            st.rerun()
        return stored
    uploaded = holder.file_uploader(label, key=uploader_key(key), **uploader_options)
    refused = st.session_state.get(_refused_key(key))
    if uploaded is None:
        if refused:
            holder.error(refused, icon=icon)
        return None
    st.session_state.pop(_refused_key(key), None)
    try:
        value = store(uploaded)
    except refusals as error:
        st.session_state[_refused_key(key)] = escape_markdown(str(error))
    else:
        st.session_state[_stored_key(key)] = StoredUpload(value, uploaded.name, int(uploaded.size))
    drop_upload(key, uploaded)
    st.rerun()


def forget_upload(key: str) -> None:
    """Forget what uploader `key` stored (the file on disk stays; the Storage page deletes it)."""
    st.session_state.pop(_stored_key(key), None)
    st.session_state.pop(_refused_key(key), None)


def _size(size_bytes: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if size_bytes >= scale:
            return f"{size_bytes / scale:.1f} {unit}"
    return f"{size_bytes} bytes"


def _generation_key(key: str) -> str:
    return f"{key}__generation"


def _stored_key(key: str) -> str:
    return f"{key}__stored"


def _refused_key(key: str) -> str:
    return f"{key}__refused"
