"""Showing a run to others: the link to its Demo page, and its model card to download (Markdown and JSON)."""

from __future__ import annotations

import json

import streamlit as st

from tlcore.inference import model_card, model_card_markdown
from tlcore.runs import Run

DEMO_PAGE = "pages/demo.py"


def demo_link(run_id: str) -> None:
    """A link to /demo?run=RUN, the page to show a finished run's predictions to an audience."""
    st.page_link(DEMO_PAGE, label="Open the demo of this model", icon=":material/co_present:",
                 query_params={"run": run_id}, help="A page with only the camera, an upload and the answer: for a "
                                                     "phone or a projector. Share its address.")


def model_card_downloads(run: Run, key: str) -> None:
    """Download buttons for the run's model card, built from its folder as it is now."""
    card = model_card(run)
    left, right = st.columns(2)
    left.download_button("Model card (.md)", model_card_markdown(card), file_name=f"{run.id}-model_card.md",
                         mime="text/markdown", key=f"{key}_card_md", icon=":material/description:")
    right.download_button("Model card (.json)", json.dumps(card, indent=2), file_name=f"{run.id}-model_card.json",
                          mime="application/json", key=f"{key}_card_json", icon=":material/data_object:")
