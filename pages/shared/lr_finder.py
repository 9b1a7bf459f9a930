"""Train page, learning-rate finder panel: run the sweep as a task, show the curve, and fill the learning-rate field.

UI only: the sweep is tlcore.training.lr_finder (task kind `lr_finder`), the chart tlcore.figures.lr_finder_curve.
"""

from __future__ import annotations

import streamlit as st

from pages.shared.auth import start_task_id
from pages.shared.monitor import task_monitor
from tlcore import figures
from tlcore.config import TrainConfig
from pages.shared.user_text import escape_markdown

LEARNING_RATE_KEY = "learning_rate"  # session_state key of the Train page's learning-rate input
TASK_KEY = "lr_finder_task"
_APPLIED = "lr_finder_applied"
MIN_RATE, MAX_RATE = 1e-6, 0.5  # the learning-rate input's bounds


def lr_finder_panel(config: TrainConfig) -> None:
    task_id = st.session_state.get(TASK_KEY)
    with st.expander("Learning-rate finder", expanded=bool(task_id), icon=":material/search:"):
        st.caption("Trains briefly on this configuration while the learning rate grows from 1e-6 to 1, and suggests "
                   "the rate where the loss falls fastest. Runs in the background, in the same queue as training.")
        if st.button("Find a learning rate", key="lr_finder_start"):
            try:
                task_id = start_task_id("lr_finder", {"config": config.to_dict()})
            except ValueError as error:
                st.error(escape_markdown(str(error)), icon=":material/error:")
            else:
                st.session_state[TASK_KEY] = task_id
        if task_id:
            task_monitor(task_id, _show_result)


def _show_result(result: dict) -> None:
    if st.session_state.pop(_APPLIED, False):
        st.rerun()  # redraw the whole page so the learning-rate input shows the new value
    st.plotly_chart(figures.lr_finder_curve(result), key="lr_finder_curve")
    rate = min(MAX_RATE, max(MIN_RATE, float(f"{result['suggested']:.2g}")))
    note = " The loss diverged before the end of the sweep, so it stopped early." if result.get("stopped_early") else ""
    st.caption(f"Suggested learning rate: **{rate:.1e}** (steepest fall of the smoothed loss).{note}")
    st.button(f"Use this rate ({rate:.1e})", key="lr_finder_use", on_click=_use_rate, args=(rate,))


def _use_rate(rate: float) -> None:
    st.session_state[LEARNING_RATE_KEY] = rate
    st.session_state[_APPLIED] = True
