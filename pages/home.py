"""Home: what TL Studio does, and every run with its state."""

import pandas as pd
import streamlit as st

from pages.shared import current_dataset, dataset_label, run_through_app
from pages.shared.user_text import escape_markdown
from tlcore import jobs
from tlcore.runs import list_runs



def _note(run) -> str:
    """Why a run stopped (failed: "disk full: …", interrupted: killed), in one line for the table."""
    status = run.status()
    error = status.get("error") if status.get("state") in ("failed", "interrupted") else None
    return error.splitlines()[0] if isinstance(error, str) and error else ""


run_through_app()
st.title("TL Studio")
st.markdown(
    "Transfer learning on your images, in the browser: pick a dataset, choose a pretrained backbone, decide how much "
    "of it to freeze, train in the background, fine-tune, evaluate and predict — no code needed."
)
dataset = current_dataset()
st.markdown(
    f"**Current dataset:** {dataset_label(dataset)} · Steps: **Dataset** → **Backbones** → **Train** → **Fine-tune** → "
    "**Evaluate** → **Predict** (left sidebar)."
)

st.subheader("Runs")
runs = list_runs()
for run in runs:
    jobs.refresh(run)
if runs:
    table = pd.DataFrame([{**run.describe(), "owner": run.owner, "note": _note(run)} for run in runs])
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"val_accuracy": st.column_config.NumberColumn(format="percent"),
                                "test_accuracy": st.column_config.NumberColumn(format="percent")})
    damaged = [row for row in table.to_dict("records") if isinstance(row["damaged"], str)]  # NaN where none
    if damaged:  # one bad folder is shown as such; every other run and the queue go on
        st.warning(f"{len(damaged)} run folder(s) damaged (see the damaged column); other runs are not affected.",
                   icon=":material/broken_image:")
    waiting = jobs.queue()
    if waiting:
        st.caption("Queue: " + " → ".join(escape_markdown(run.id) for run in waiting))
else:
    st.info("No runs yet. Open **Train** to start one on the current dataset.", icon=":material/info:")
