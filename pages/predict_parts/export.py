"""UI for exporting a run's model: choose formats → a background task → each file checked in its own runtime
(size, accuracy, latency with its spread, throughput, parity), client snippets, downloads and the deployment bundle."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.shared import task_monitor
from pages.shared.auth import allowed, current_user
from tlcore import actions, backbones
from tlcore.figures import export_comparison
from tlcore.inference import BUNDLE_FILE, FORMATS, exports_dir, read_report, staleness

TASK_KEY = "export_task"
PARITY_TEXT = {True: "passed (≥ {:.0f} % top-1 agreement)", False: "FAILED (< {:.0f} %)",
               None: "reported (no threshold)"}
SNIPPET_LANGUAGE = {".py": "python", ".html": "html"}


def export_section(run) -> None:
    with st.expander("Export the model", icon=":material/ios_share:"):
        st.caption("Each file is reloaded in the runtime it is deployed on (onnxruntime for ONNX, the OpenVINO "
                   "runtime for IR, the LiteRT interpreter for TFLite; Keras and TensorFlow for .keras and "
                   "SavedModel), fed the test split exactly as its metadata.json tells a client, and compared with "
                   "the app's calibrated probabilities. Latency is the median of repeated one-image calls "
                   "(p10–p90 beside it). int8 is calibrated on training images. The .keras file holds Keras's own "
                   "layers only: it opens with `keras.models.load_model` without TL Studio.")
        _kerashub_note(run)
        formats = st.multiselect("Formats", list(FORMATS), default=list(FORMATS), key="export_formats",
                                 format_func=lambda name: FORMATS[name].label)
        can_export = allowed("export", run.owner)
        if can_export and st.button("Export", disabled=not formats, key="export_go", icon=":material/ios_share:"):
            _start(run, formats)
        running = st.session_state.get(TASK_KEY)
        if running and running[0] == run.id:
            task_monitor(running[1], lambda result: None)  # progress only: the stored report is drawn below
        _show_report(run, can_export)


def _start(run, formats: list[str]) -> None:
    task = actions.start_task(current_user(), "export", {"run": run.id, "formats": formats})  # owner checked
    st.session_state[TASK_KEY] = (run.id, task.id)


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


def _show_report(run, can_export: bool) -> None:
    report = read_report(run)
    rows = list(report.get("formats", {}).values())
    if not rows:
        return
    stale = staleness(run, report)
    if stale:
        st.warning(f"These exports are stale: the run's calibration changed since they were made ({stale}). "
                   "Their probabilities and \"not sure\" threshold are the old ones.", icon=":material/history:")
        if can_export and st.button("Re-export with the current calibration", key="export_again",
                                    icon=":material/refresh:"):
            _start(run, [row["format"] for row in rows if row["format"] in FORMATS])
    if report.get("warning"):
        st.error(f"Parity proves little for this run: {report['warning']}.", icon=":material/warning:")
    app_latency = report.get("app_model_latency_ms")
    st.markdown(f"**Checked on the {report['checked_on']} split ({report['images']} images)** · the app's own "
                f"compiled call: {'–' if app_latency is None else f'{app_latency:.2f}'} ms per image")
    # A small static table (st.table): a few rows, readable as text in the page and by tests.
    st.table(pd.DataFrame([_table_row(row) for row in rows]).set_index("format"))
    st.plotly_chart(export_comparison({name: row for name, row in report["formats"].items() if "size_bytes" in row}),
                    key="export_comparison")
    for row in rows:
        if "unavailable" in row:
            st.info(f"{row['label']}: {row['reason']}. {row['unavailable']}", icon=":material/info:")
    folder = exports_dir(run)
    _snippets(folder, rows)
    columns = st.columns(len(rows) + 2)
    for column, row in zip(columns, rows):
        if "download" in row and (folder / row["download"]).exists():
            path = folder / row["download"]
            column.download_button(row["format"], data=path.read_bytes, file_name=f"{run.id}-{path.name}",
                                   key=f"download_{row['format']}", icon=":material/download:")
    columns[-2].download_button("labels.txt", data=(folder / "labels.txt").read_bytes, file_name="labels.txt",
                                key="download_labels", icon=":material/download:")
    if (folder / BUNDLE_FILE).exists():
        columns[-1].download_button("Deployment bundle", data=(folder / BUNDLE_FILE).read_bytes,
                                    file_name=f"{run.id}-bundle.zip", key="download_bundle",
                                    icon=":material/package_2:",
                                    help="Every checked format, labels, metadata, model card, client snippets and "
                                         "the parity report in one zip.")


def _table_row(row: dict) -> dict:
    if "unavailable" in row:
        return {"format": row["label"], "runtime": "–", "size": "–", "test accuracy": "–", "latency": "–",
                "throughput": "–", "top-1 agreement": "–", "parity": "not available (see below)"}
    latency = row.get("latency_ms")
    spread = (f" (p10–p90 {row['latency_p10_ms']:.2f}–{row['latency_p90_ms']:.2f})"
              if "latency_p10_ms" in row else "")
    required = row.get("parity_required")
    parity = PARITY_TEXT[row.get("parity_passed")].format(100 * (required or 0))
    if row.get("representative_images"):
        parity += f"; calibrated on {row['representative_images']} training images"
    return {
        "format": row["label"], "runtime": row.get("runtime", "–"),
        "size": f"{row['size_bytes'] / 1e6:.2f} MB" if "size_bytes" in row else "–",
        "test accuracy": _percent(row.get("test_accuracy")),
        "latency": "–" if latency is None else f"{latency:.2f} ms/image{spread}",
        "throughput": f"{row['throughput_images_per_s']:.0f} img/s" if "throughput_images_per_s" in row else "–",
        "top-1 agreement": _percent(row.get("top1_agreement")),
        "parity": f"error: {row['error']}" if "error" in row else parity,
    }


def _snippets(folder, rows: list[dict]) -> None:
    """The client code stored beside each export, one tab per format."""
    stored = [(row["format"], sorted(p for p in (folder / row["format"]).glob("client.*")))
              for row in rows if "path" in row]
    stored = [(name, files) for name, files in stored if files]
    if not stored:
        return
    st.markdown("**Client code** (also in each folder and in the bundle's README.md)")
    for tab, (name, files) in zip(st.tabs([name for name, _ in stored]), stored):
        for path in files:
            tab.caption(path.name)
            tab.code(path.read_text(), language=SNIPPET_LANGUAGE.get(path.suffix, "text"))


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"
