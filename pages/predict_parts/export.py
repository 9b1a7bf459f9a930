"""UI for exporting a run's model: choose formats → a background task → size, accuracy, latency, parity, downloads."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.shared import task_monitor
from pages.shared.auth import allowed, current_user
from tlcore import actions, backbones
from tlcore.figures import export_comparison
from tlcore.inference import FORMATS, exports_dir, read_report

TASK_KEY = "export_task"
PARITY_TEXT = {True: "passed (≥ 99 % top-1 agreement)", False: "FAILED (< 99 %)", None: "reported (no threshold)"}


def export_section(run) -> None:
    with st.expander("Export the model", icon=":material/ios_share:"):
        st.caption("Each file is reloaded and run on the test split beside the app's model. int8 is calibrated on "
                   "training images; its agreement is shown as measured. TFLite files are checked with TensorFlow's "
                   "built-in interpreter (deprecated in TF 2.21 in favour of the `ai_edge_litert` package, which is "
                   "used when installed).")
        _kerashub_note(run)
        formats = st.multiselect("Formats", list(FORMATS), default=list(FORMATS), key="export_formats",
                                 format_func=lambda name: FORMATS[name].label)
        if allowed("export", run.owner) and \
                st.button("Export", disabled=not formats, key="export_go", icon=":material/ios_share:"):
            task = actions.start_task(current_user(), "export", {"run": run.id, "formats": formats})  # owner checked
            st.session_state[TASK_KEY] = (run.id, task.id)
        running = st.session_state.get(TASK_KEY)
        if running and running[0] == run.id:
            task_monitor(running[1], lambda result: None)  # progress only: the stored report is drawn below
        _show_report(run)


def _kerashub_note(run) -> None:
    """What was measured for a KerasHub base (docs/backbones.md, bench/kerashub_export.py)."""
    try:
        name = run.config().backbone
    except (OSError, ValueError):
        return
    if name in backbones.KERASHUB:
        st.info(f"{name} is a KerasHub backbone. Measured on small configurations: every format here converts "
                "(.keras and SavedModel exactly, TFLite float32/float16 within 1e-3, int8 within 0.1 with the same "
                "top-1); the full-size model was not converted on this server, so read the parity column below. "
                "Opening the `.keras` file elsewhere needs keras_hub installed; SavedModel and TFLite do not.",
                icon=":material/info:")


def _show_report(run) -> None:
    report = read_report(run)
    rows = list(report.get("formats", {}).values())
    if not rows:
        return
    st.markdown(f"**Checked on the {report['checked_on']} split ({report['images']} images)** · the app's own "
                f"compiled call: {report['app_model_latency_ms']:.2f} ms per image")
    # A small static table (st.table): five rows at most, readable as text in the page and by tests.
    st.table(pd.DataFrame([{
        "format": row["label"], "size": f"{row['size_bytes'] / 1e6:.2f} MB" if "size_bytes" in row else "–",
        "test accuracy": _percent(row.get("test_accuracy")),
        "latency": f"{row['latency_ms']:.2f} ms/image" if row.get("latency_ms") is not None else "–",
        "top-1 agreement": _percent(row.get("top1_agreement")),
        "parity": f"error: {row['error']}" if "error" in row else PARITY_TEXT[row["parity_passed"]],
    } for row in rows]).set_index("format"))
    st.plotly_chart(export_comparison(report["formats"]), key="export_comparison")
    folder = exports_dir(run)
    columns = st.columns(len(rows) + 1)
    for column, row in zip(columns, rows):
        if "download" in row and (folder / row["download"]).exists():
            path = folder / row["download"]
            column.download_button(row["format"], data=path.read_bytes, file_name=f"{run.id}-{path.name}",
                                   key=f"download_{row['format']}", icon=":material/download:")
    columns[-1].download_button("labels.txt", data=(folder / "labels.txt").read_bytes, file_name="labels.txt",
                                key="download_labels", icon=":material/download:")


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"
