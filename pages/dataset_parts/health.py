"""Dataset page, UI only: the health report (computed inline for small folders, as a background task for big ones).

Every finding is shown at once: imbalance, unreadable files, entries not read (links leaving the data root, loops,
pipes, nested archives), converted colour modes, duplicates and leakage, and notes such as a full disk.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.shared import escape_markdown, task_monitor
from pages.shared.auth import start_task_id
from tlcore import figures
from tlcore.config import SplitConfig
from tlcore.datasets import DatasetScan, cached_report, health_report

INLINE_LIMIT = 5_000  # images checked while the page waits; more go to a background task with a progress bar


@st.cache_data(show_spinner="Checking every image once…", max_entries=8)
def _report(path: str, fingerprint: str, val: float, test: float, seed: int) -> dict:
    from tlcore.datasets import scan_folder

    return health_report(scan_folder(path), SplitConfig(val, test, seed))


def health_section(path: str, scan: DatasetScan, split: SplitConfig) -> dict | None:
    """Show the report and return it; None while a background check is still to run or running."""
    if cached_report(scan) is None and len(scan.files) > INLINE_LIMIT:
        st.info(f"{len(scan.files):,} images: the check runs in the background (each file is read once; the result is "
                "kept until the folder changes). Until then unreadable files are not yet known.",
                icon=":material/health_and_safety:")
        key = f"health_task::{scan.fingerprint}"
        if st.button(f"Check all {len(scan.files):,} images", key="health_start"):
            st.session_state[key] = start_task_id("health", {"dataset": path})
        if st.session_state.get(key):
            task_monitor(st.session_state[key], render)
        return None
    report = _report(path, scan.fingerprint, split.val_fraction, split.test_fraction, split.seed)
    render(report)
    return report


def render(report: dict) -> None:
    for note in report.get("notes", []):
        st.warning(escape_markdown(note), icon=":material/hard_drive:")
    imbalance = report["imbalance"]
    if imbalance["warning"]:
        st.warning(escape_markdown(imbalance["warning"]), icon=":material/balance:")
        st.dataframe(pd.DataFrame({"class": list(imbalance["class_weights"]),
                                   "suggested class weight": list(imbalance["class_weights"].values())}),
                     hide_index=True)
    unreadable = report["unreadable"]
    if unreadable:
        by_reason = ", ".join(f"{count} {reason}" for reason, count in report["unreadable_by_reason"].items())
        st.warning(f"{len(unreadable)} file(s) cannot be read and will be left out of training ({by_reason}):",
                   icon=":material/broken_image:")
        st.dataframe(pd.DataFrame(unreadable, columns=["path", "reason", "message"]), hide_index=True,
                     width="stretch")
    else:
        st.success(f"All {report['images']:,} images decode.", icon=":material/check_circle:")
    not_read = report.get("not_read", [])
    if not_read:
        by_reason = ", ".join(f"{count} {reason}" for reason, count in report["not_read_by_reason"].items())
        st.warning(f"{len(not_read)} entr{'y was' if len(not_read) == 1 else 'ies were'} not read ({by_reason}): "
                   "nothing outside the data root is read, and loops or pipes are never followed.",
                   icon=":material/link_off:")
        st.dataframe(pd.DataFrame(not_read, columns=["path", "reason", "message"]), hide_index=True,
                     width="stretch")
    converted = {mode: count for mode, count in report["modes"].items() if mode != "RGB"}
    if converted:
        st.caption("Converted to RGB the same way in preview, training and prediction: "
                   + ", ".join(f"{count} {mode}" for mode, count in converted.items()))
    leaks = [group for group in report["duplicates"] if group["leak"]]
    if leaks:
        st.error(f"{len(leaks)} group(s) of identical images sit in different splits: the test score would be "
                 "inflated by images the model trained on. Remove the copies.", icon=":material/content_copy:")
    if report["duplicates"]:
        st.caption(f"{len(report['duplicates'])} group(s) of byte-identical images:")
        st.dataframe(pd.DataFrame([{"files": ", ".join(g["paths"]), "splits": ", ".join(g["splits"]),
                                    "classes": ", ".join(g["classes"]), "leak": g["leak"]}
                                   for g in report["duplicates"]]), hide_index=True, width="stretch")
    if report["sizes"]["width"]:
        st.plotly_chart(figures.size_histograms(report["sizes"]), key="health_sizes")
        st.plotly_chart(figures.mode_counts(report["modes"]), key="health_modes")
