"""The queue table: every waiting or running job with its owner, devices and place in line, damaged folders with
their reason, and which GPUs are free. Read-only: one scheduler call (`jobs.queue_rows`), no TensorFlow."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from tlcore import jobs

__all__ = ["queue_table", "free_gpus_caption"]

_COLUMNS = {"id": "Job", "kind": "Kind", "state": "State", "owner": "Owner", "needs": "Needs", "devices": "GPUs",
            "position": "Position", "note": "Note"}


def queue_table(key: str = "queue") -> None:
    """Jobs that are queued or running (and damaged ones), in a table; nothing when the queue is empty."""
    rows = [row for row in jobs.queue_rows() if row["state"] in ("queued", "running", "damaged")]
    if not rows:
        return
    for row in rows:
        row["note"] = row["damaged"] or ""
    table = pd.DataFrame(rows)[list(_COLUMNS)].rename(columns=_COLUMNS)
    st.dataframe(table, hide_index=True, width="stretch", key=key)
    free_gpus_caption()


def free_gpus_caption() -> None:
    """'GPUs free: 2, 3 of 4' (or that jobs go to the Ray cluster, or that the machine has none)."""
    if jobs.ray_address():
        st.caption(f"Jobs run on the Ray cluster at {jobs.ray_address()}; Ray places them on its GPUs.")
        return
    free, every = jobs.free_gpus()
    if every:
        st.caption(f"GPUs free now: {', '.join(free) or 'none'} of {len(every)} ({', '.join(every)}).")
