"""Every page runs inside app.py's navigation, also when a deep link reaches a freshly started server."""

from __future__ import annotations

import runpy
from pathlib import Path

import streamlit as st

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
