"""The freeze slider's knowledge, on Train and Fine-tune: probe accuracy and step time by depth, the recommended
depth, and a button that moves the slider there. The numbers come from a background task ("transferability").

UI only: results from tlcore.modeling (cached_freeze_depth_report), the chart from tlcore.figures.
"""

from __future__ import annotations

import hashlib
import json
from typing import Callable

import streamlit as st

from pages.shared.auth import start_task_id
from pages.shared.monitor import task_monitor
from pages.shared.user_text import escape_markdown, inline_code
from tlcore import figures, modeling
from tlcore.backbones import GENERIC_TO_SPECIFIC
from tlcore.config import TrainConfig

__all__ = ["USE_RECOMMENDED", "MEASURE", "freeze_depth_panel"]

USE_RECOMMENDED = "Use recommended depth"
MEASURE = "Measure how each depth transfers"


def _task_key(params: dict) -> str:
    return "freeze_depth_task_" + hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]


def _show_outcome(result: dict) -> None:
    """A finished task: an answer that is not a curve (too little data, weights missing) is shown here; a curve is
    drawn by the panel from the cache on the rerun that follows."""
    if result.get("error"):
        st.error(escape_markdown(result["error"]), icon=":material/error:")
        if result.get("class_counts"):
            st.dataframe([{"class": name, "training images": count} for name, count in result["class_counts"].items()],
                         hide_index=True)


def freeze_depth_panel(config: TrainConfig, class_count: int, key: str, use_depth: Callable[[int], None]) -> None:
    """Above the strip: the curves for this config (or a button that measures them), and "Use recommended depth",
    whose `use_depth(fine_tune_at)` callback moves the page's slider (the layer count: whole base frozen)."""
    st.markdown("**What each depth buys and costs.** " + GENERIC_TO_SPECIFIC)
    report = modeling.cached_freeze_depth_report(config, class_count)
    if report is None:
        params = modeling.freeze_depth_task_params(config, class_count)
        task_key = _task_key(params)
        if st.button(MEASURE, key=f"measure_{key}",
                     help="One pass over up to 2,000 training images and a cross-validated linear probe per block "
                          "(the pass also times this server, for the step-time estimate): a background job, "
                          "seconds to a minute."):
            st.session_state[task_key] = start_task_id("transferability", params)
        if st.session_state.get(task_key):
            task_monitor(st.session_state[task_key], _show_outcome)
        return
    probe, cost = report["probe"], report["cost"]
    st.plotly_chart(figures.freeze_depth_curves(report, config.fine_tune_at), key=f"freeze_depth_curves_{key}")
    recommended = probe["recommended_fine_tune_at"]
    where = ("the whole base frozen" if recommended >= probe["layer_count"] else
             f"freeze below layer {recommended}")
    st.caption(f"**Recommended depth: {where}** (after block {inline_code(probe['recommended_block'])}). "
               f"{probe['rule']}")
    notes = [f"Probe: {probe['images']:,} training images, {probe['folds']}-fold cross-validation, "
             f"{probe['weights']} weights.", probe["taps_note"], cost["note"],
             f"Device: {cost['device']}, batch {cost['batch_size']}, {cost['image_size']} px."]
    if cost.get("memory_note"):
        notes.append(f"Peak memory: {cost['memory_note']}.")
    st.caption(" ".join(notes))
    st.button(USE_RECOMMENDED, key=f"use_recommended_{key}", on_click=use_depth, args=(recommended,))
