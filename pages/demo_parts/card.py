"""Demo page, UI only: the short model card an audience needs (dataset, classes, test accuracy, when trained)."""

from __future__ import annotations

import streamlit as st

from pages.shared.user_text import escape_markdown

from tlcore.inference import model_card
from tlcore.runs import Run


def short_card(run: Run) -> None:
    card = model_card(run)
    data, metrics, calibration = card["data"], card["metrics"], card["calibration"]
    with st.container(border=True):
        st.markdown("**About this model**")
        columns = st.columns(4)
        columns[0].metric("Classes", len(data["classes"]))
        if metrics:
            columns[1].metric(f"{metrics['split'].capitalize()} accuracy", f"{metrics['accuracy']:.0%}",
                              help=f"Measured on {metrics['images']} images it never trained on.")
        columns[2].metric("Trained on", f"{data['images'].get('train', 0):,} images")
        columns[3].metric("Trained", (card["trained"]["finished_at"] or "–")[:10])
        st.caption(f"Dataset: {escape_markdown(str(data['dataset']))} — {escape_markdown(str(data['source']))}. "
                   f"Classes: {escape_markdown(', '.join(map(str, data['classes'])))}. "
                   f"Backbone {card['model']['backbone']} at {card['model']['image_size']} px."
                   + (f" Probabilities calibrated (temperature {calibration['temperature']:.2f})." if calibration
                      else ""))
