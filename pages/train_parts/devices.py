"""Train page: how many GPUs this run asks for, beside which GPUs are free now. The run then trains with
MirroredStrategy over exactly the GPUs the scheduler gives it (one GPU: no strategy needed)."""

from __future__ import annotations

import streamlit as st

from pages.shared.queue import free_gpus_caption
from pages.shared.user_text import inline_code
from tlcore import jobs

__all__ = ["gpu_request"]

CLUSTER_MAX_GPUS = 16  # what the form offers when the Ray cluster's nodes cannot be read


def gpu_request() -> int | None:
    """The number of GPUs to ask for; None on a machine without GPUs (training takes the CPU training lane)."""
    if jobs.ray_address():
        return _cluster_gpu_request()
    free, every = jobs.free_gpus()
    if not every:
        return None
    gpus = int(st.number_input("GPUs for this run", min_value=1, max_value=len(every), value=1,
                               help="More than one: one model copy per GPU (MirroredStrategy); the batch size above "
                                    "is per GPU. The run waits in the queue until that many GPUs are free."))
    free_gpus_caption()
    if gpus > len(free):
        st.caption(f"Only {len(free)} free now: the run waits its turn for {gpus}.")
    return gpus


def _cluster_gpu_request() -> int:
    """On Ray: what the cluster's nodes have (a run fits on one node), 0 (a CPU node) when it has none."""
    st.caption(f"Jobs run on the Ray cluster at {inline_code(jobs.ray_address() or '')}; Ray places them.")
    cluster = jobs.cluster_gpus()
    if cluster is None:
        st.warning("The Ray cluster's GPUs cannot be read now (is its head up?): this run asks for none unless you "
                   "choose more.")
        return int(st.number_input("GPUs for this run", min_value=0, max_value=CLUSTER_MAX_GPUS, value=0,
                                   help="Ray starts the run on a node with this many free GPUs (0: a CPU node)."))
    if not cluster.largest_node:
        st.info(cluster.describe())
        return 0
    st.caption(cluster.describe())
    return int(st.number_input("GPUs for this run", min_value=0, max_value=cluster.largest_node, value=1,
                               help="Ray starts the run on a node with this many free GPUs (0: a CPU node); "
                                    "more than one: one model copy per GPU (MirroredStrategy)."))
