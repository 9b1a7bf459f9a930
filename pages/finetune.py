"""Fine-tune: continue a finished run with part of the base unfrozen (once, or gradually in stages), or compare
several freeze depths in a sweep. The run's phases are shown as one learning curve and a table."""

import streamlit as st

from pages.finetune_parts.plans import gradual_plan, single_phase_plan, sweep_plan
from pages.shared import job_monitor, pick_run, run_through_app
from tlcore import figures, runs, training
from tlcore.runs import FINISHED

run_through_app()
st.title("Fine-tune")
st.markdown("Unfreeze the top of the base and train a little more at a low learning rate; epochs continue from "
            "where the run ended, and each continuation is a new phase.")
parent = pick_run("Run to continue", lambda run: run.state == FINISHED and run.model_path.exists())
if parent is None:
    st.info("No finished run yet: train one on **Train** first.", icon=":material/info:")
    st.stop()

try:
    changes = runs.dataset_changes(parent).message("Fine-tuning")
except ValueError:  # the folder cannot be read at all: the job says why
    changes = ""
if changes:
    st.warning(changes, icon=":material/difference:")

phases = training.phase_table(parent)
if parent.history():
    with st.expander(f"Phases of `{parent.id}` ({len(phases)})", expanded=len(phases) > 1):
        st.plotly_chart(figures.phase_curves(parent.history()), key="phase_curves")
        st.dataframe(phases, hide_index=True, column_config={
            "learning rate": st.column_config.NumberColumn(format="%.2e"),
            "trainable params": st.column_config.NumberColumn(format="localized"),
            "best val accuracy": st.column_config.NumberColumn(format="percent")})

once, gradual, sweep = st.tabs(["Fine-tune once", "Gradual unfreezing", "Freeze-depth sweep"])
with once:
    single_phase_plan(parent)
with gradual:
    gradual_plan(parent)
with sweep:
    sweep_plan(parent)

job_id = st.query_params.get("job") or st.session_state.get("finetune_job")
if job_id:
    st.subheader("Fine-tuning job")
    job_monitor(job_id)
