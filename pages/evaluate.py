"""Evaluate: test-split metrics, confusion matrix and per-class precision/recall/F1 of a run."""

import pandas as pd
import streamlit as st

from pages._shared import pick_run, run_through_app
from tlcore import figures

run_through_app()
st.title("Evaluate")
run = pick_run("Run", lambda run: run.evaluation() is not None)
if run is None:
    st.info("No evaluated run yet: runs are evaluated on their test split when training ends.", icon=":material/info:")
    st.stop()

report = run.evaluation()
split_label = "Test" if report["split"] == "test" else "Validation (no test split)"
c1, c2, c3 = st.columns(3)
c1.metric(f"{split_label} accuracy", f"{report['accuracy']:.1%}")
c2.metric(f"{split_label} loss", f"{report['loss']:.3f}")
c3.metric("Images", f"{report['images']:,}")

normalise = st.toggle("Row-normalised (share of each true class)", value=False)
st.plotly_chart(figures.confusion_matrix(report["confusion_matrix"], report["class_names"], normalise),
                key="confusion")
st.subheader("Per class")
per_class = pd.DataFrame(report["per_class"])
st.dataframe(per_class, hide_index=True, width="stretch",
             column_config={name: st.column_config.NumberColumn(format="%.3f") for name in ("precision", "recall", "f1")})
history = run.history()
if history:
    st.plotly_chart(figures.learning_curves(history), key="eval_curves")

# --- An external model (a .keras file trained elsewhere) on a dataset folder: UI in pages/_external.py ------------
from pages._external import external_evaluation_section  # noqa: E402

external_evaluation_section()
