"""Backbones page, one button: a finished run becomes a backbone, cut where the lab cuts (after its convolutions).

UI only: the cut is tlcore.backbones.create_from_run; the form below it still cuts anywhere else.
"""

from __future__ import annotations

import re
from pathlib import Path

import streamlit as st

from tlcore import backbones
from tlcore.layers import BadModelFile
from pages.shared.user_text import escape_markdown


def default_name(run_id: str) -> str:
    """A usable backbone name from a run id: lower-case, at most 40 characters of letters, digits, - and _."""
    return re.sub(r"[^a-z0-9_-]+", "-", run_id.lower()).strip("-_")[:40] or "my-model"


def run_as_backbone_button(run_id: str, model_path: Path) -> None:
    name = default_name(run_id)
    if not st.button(f"Use this run as a backbone (`custom-{name}`, cut after its convolutions)",
                     key="custom_from_run", icon=":material/call_split:"):
        return
    with st.spinner("Cutting the model (starts TensorFlow; ~20 s the first time)…"):
        try:
            backbone = backbones.create_from_run(name, model_path, f"run {run_id}")
        except (ValueError, BadModelFile) as error:
            st.error(escape_markdown(str(error)), icon=":material/error:")
            return
    st.success(f"Saved **{backbone.name}** (cut after `{backbone.cut_at}`, its trained weights kept): choose it as the "
               "backbone on **Train** for another dataset.", icon=":material/check_circle:")
