"""Evaluate page, UI only: the headline metrics, per-class table, and the Re-evaluate task for runs evaluated before
per-image predictions (or the calibration) were stored."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.shared import task_monitor
from pages.shared.auth import start_task_id
from tlcore.evaluation import top_k_of
from tlcore.inference.model_card import chance_warning
from tlcore.runs import Run


def split_label(report: dict) -> str:
    return "Test" if report["split"] == "test" else "Validation (no test split)"


def headline(report: dict, predictions: pd.DataFrame | None, record: dict | None = None) -> int:
    """Accuracy, loss, top-k (k chosen here) and image count; returns k. The ECE is the calibrated one the app uses
    (`record`, eval/calibration.json) when the run has a temperature, else the model's own, labelled as such."""
    warning = chance_warning(report)
    if warning:
        st.error(warning, icon=":material/block:")
    label, classes = split_label(report), len(report["class_names"])
    k = st.number_input("k for top-k accuracy", min_value=1, max_value=max(1, classes), value=min(2, classes),
                        key="top_k") if predictions is not None else 2
    columns = st.columns(5 if predictions is not None else 3)
    columns[0].metric(f"{label} accuracy", f"{report['accuracy']:.1%}")
    columns[1].metric(f"{label} loss", f"{report['loss']:.3f}")
    columns[2].metric("Images", f"{report['images']:,}")
    if predictions is not None:
        columns[3].metric(f"Top-{k} accuracy", f"{top_k_of(predictions, report['class_names'], k):.1%}")
        held_out = (record or {}).get("held_out") or {}
        if held_out.get("ece_after") is not None:
            columns[4].metric("Expected calibration error", f"{held_out['ece_after']:.3f}",
                              help=f"Of the calibrated probabilities Predict and Demo show (temperature "
                                   f"{record['temperature']:.2f}); before scaling {held_out['ece_before']:.3f}.")
        else:
            columns[4].metric("Expected calibration error (uncalibrated)", f"{report['calibration']['ece']:.3f}",
                              help="Of the model's own probabilities: this run has no temperature yet.")
    return int(k)


def per_class_table(report: dict) -> None:
    st.subheader("Per class")
    st.dataframe(pd.DataFrame(report["per_class"]), hide_index=True, width="stretch", key="per_class",
                 column_config={name: st.column_config.NumberColumn(format="%.3f")
                                for name in ("precision", "recall", "f1")})


def reevaluate_offer(run: Run, missing: str = "per-image predictions were kept: top-k accuracy, the images of each "
                     "confusion cell, the top losses and calibration need a re-evaluation") -> None:
    """Older runs lack what newer evaluations store: evaluate again as a background task (never in the page)."""
    task_key = f"reevaluate_task_{run.id}"
    if task_key in st.session_state:
        task_monitor(st.session_state[task_key],
                     lambda result: st.success(f"Re-evaluated: {split_label(result).lower()} accuracy "
                                               f"{result['accuracy']:.1%}.", icon=":material/check_circle:"))
        return
    if not run.model_path.exists():
        st.info("This run has no saved model, so it cannot be evaluated again.", icon=":material/info:")
        return
    st.info(f"This run was evaluated before {missing}. It runs as a background job.", icon=":material/info:")
    if st.button("Re-evaluate", icon=":material/refresh:"):
        st.session_state[task_key] = start_task_id("evaluate", {"run": run.id})
        st.rerun()
