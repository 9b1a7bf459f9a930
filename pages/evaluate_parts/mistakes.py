"""Evaluate page, UI only: the clickable confusion matrix with the images of the chosen cell, the most confident
mistakes, and the most-confused class pairs. Everything comes from the run's stored predictions."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.shared.user_text import escape_markdown

from tlcore import figures
from tlcore.evaluation import cell_files, most_confused_pairs, nonempty_cells, thumbnails, top_losses

CELL_IMAGES_SHOWN = 60
THUMB_PX = 120


def confusion_section(run_id: str, report: dict, predictions: pd.DataFrame | None, dataset: str) -> None:
    matrix, names = report["confusion_matrix"], report["class_names"]
    normalise = st.toggle("Row-normalised (share of each true class)", value=False)
    event = st.plotly_chart(figures.confusion_cells(matrix, names, normalise), key=f"confusion_{run_id}",
                            on_select="rerun", selection_mode="points", width="content")
    if predictions is None:
        return
    cells = {(cell.true, cell.predicted): cell.label for cell in nonempty_cells(matrix, names)}
    picker_key, clicked_key = f"confusion_cell_{run_id}", f"confusion_clicked_{run_id}"
    clicked = _clicked_cell(event)
    if clicked != st.session_state.get(clicked_key):  # a new click on the chart drives the select box below
        st.session_state[clicked_key] = clicked
        if clicked is not None:
            st.session_state[picker_key] = cells.get(clicked)
            if clicked not in cells:
                st.info(f"No image of class {escape_markdown(clicked[0])} was predicted as "
                        f"{escape_markdown(clicked[1])}.", icon=":material/info:")
    by_label = {label: cell for cell, label in cells.items()}
    chosen = st.selectbox("Images in a confusion cell", list(by_label), index=None, key=picker_key,
                          placeholder="Click a cell of the matrix, or choose one here")
    if chosen is not None:
        true, predicted = by_label[chosen]
        show_images(dataset, cell_files(predictions, true, predicted), f"true {true} → predicted {predicted}")


def _clicked_cell(event) -> tuple[str, str] | None:
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    if not points or "customdata" not in points[0]:
        return None
    true, predicted = points[0]["customdata"][:2]
    return str(true), str(predicted)


def show_images(dataset: str, files: list[str], what: str) -> None:
    shown = thumbnails(dataset, files[:CELL_IMAGES_SHOWN], THUMB_PX)
    st.caption(f"{len(files)} image(s) {escape_markdown(what)}" +
               (f"; the first {CELL_IMAGES_SHOWN} shown" if len(files) > CELL_IMAGES_SHOWN else ""))
    readable = [(name, image) for name, image in shown if image is not None]
    if readable:
        st.image([image for _, image in readable], caption=[escape_markdown(name) for name, _ in readable], width=THUMB_PX)
    missing = [name for name, image in shown if image is None]
    if missing:
        st.warning(f"Not readable any more: {', '.join(missing)}", icon=":material/broken_image:")


def mistakes_section(report: dict, predictions: pd.DataFrame, dataset: str, temperature: float | None = None) -> None:
    """`predictions` already calibrated with `temperature` (None: the run has none, the model's own probabilities)."""
    st.subheader("Most confident mistakes")
    st.caption(f"Probabilities calibrated (temperature {temperature:.2f}), as Predict and Demo show them."
               if temperature is not None else "The model's own probabilities: this run has no temperature yet.")
    worst = top_losses(predictions, count=st.slider("How many", 4, 48, 12, step=4, key="top_losses_count"))
    if not worst:
        st.success("No mistakes on this split.", icon=":material/check_circle:")
    else:
        images = dict(thumbnails(dataset, [row["file"] for row in worst], THUMB_PX))
        shown = [row for row in worst if images[row["file"]] is not None]
        st.image([images[row["file"]] for row in shown], width=THUMB_PX,
                 caption=[escape_markdown(f"true {row['true']} · predicted {row['predicted']} · {row['probability']:.0%}")
                          for row in shown])
    st.subheader("Most confused pairs")
    pairs = most_confused_pairs(report["confusion_matrix"], report["class_names"])
    if pairs:
        st.dataframe(pd.DataFrame(pairs), hide_index=True, width="stretch", key="confused_pairs",
                     column_config={"share_of_true_class": st.column_config.NumberColumn("share of true class",
                                                                                         format="percent")})
