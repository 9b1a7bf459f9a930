"""Dataset page, UI only: the dataset in feature space (a background task), coloured and selectable, with the
cleaner under it. The map section is shared with the Evaluate page (a run's own features)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.dataset_parts.cleaner import cleaner_section
from pages.dataset_parts.retrain import dataset_retrain_section
from pages.shared import get_task, task_monitor
from pages.shared.auth import start_task_id
from tlcore import backbones, curation, figures, jobs
from tlcore.backbones import status
from tlcore.runs import FINISHED

WEIGHTS = {"ImageNet (cached weights only)": "imagenet", "Random (untrained features)": "random"}
METHODS = {"UMAP": "umap", "t-SNE": "tsne", "PCA": "pca"}
ISSUE_COLUMNS = {"path": "Image", "given": "Given label", "suggested": "Suggested", "score": "Score",
                 "flagged": "Flagged by cleanlab"}
PAIR_COLUMNS = {"a": "Image", "b": "Near-copy", "similarity": "Cosine similarity", "split_a": "Split",
                "split_b": "Its split", "kind": "Found by", "leakage": "Leakage across splits"}


def embedding_map_section(dataset: str, scan) -> None:
    st.subheader("Dataset in feature space")
    st.caption("Pooled features of a backbone for every image, drawn in 2-D; label issues (cleanlab on "
               "cross-validated predictions), near-duplicates (pixels and features) and outliers. Computed as a "
               "background task and cached with the fast frozen phase's features.")
    left, middle, right, last = st.columns(4)
    backbone = left.selectbox("Backbone", backbones.names(), index=backbones.names().index("MobileNetV2"),
                              key="map_backbone")
    size = int(middle.number_input("Image size (px)", 32, 600, 96, 16, key="map_size"))
    imagenet_cached = status(backbones.get(backbone), size).cached
    # offline is normal: with no cached ImageNet weights, random ones are preselected (and said), not a failed click
    weights = WEIGHTS[right.radio("Weights", list(WEIGHTS), index=0 if imagenet_cached else 1, key="map_weights")]
    method = METHODS[last.radio("Projection", list(METHODS), key="map_method")]
    if not imagenet_cached and weights == "random":
        st.caption(f"ImageNet weights for {backbone} at {size} px are not cached on this server (offline), so random "
                   "weights are preselected. Random features are weaker: a less precise map and label-issue ranking.")
    missing = weights == "imagenet" and not imagenet_cached
    key = f"map_task::{scan.root}"
    if st.button("Compute map", key="map_compute", icon=":material/scatter_plot:"):
        if missing:  # said when asked, not on every visit: the page stays quiet on an offline server
            st.warning(f"ImageNet weights for {backbone} at {size} px are not cached on this server, so there is no "
                       "map to compute (never silently random). Upload them on the Backbones page, or choose random "
                       "weights.", icon=":material/cloud_off:")
        else:
            config = curation.EmbedConfig(dataset, backbone, size, weights, method=method)
            st.session_state[key] = start_task_id(curation.TASK_KIND, config.to_dict())
    if not st.session_state.get(key) and (last := curation.latest_map_task(dataset)):
        st.session_state[key] = st.session_state[f"{key}::earlier"] = last  # after a reload or on another visit
    if st.session_state.get(key) and st.session_state.get(key) == st.session_state.get(f"{key}::earlier"):
        st.caption(f"The last map computed for this dataset (task `{st.session_state[key]}`); compute it again "
                   "after cleaning to see the dataset as it is now.")
    if st.session_state.get(key):
        map_of_task(st.session_state[key], dataset, "dataset")
    dataset_retrain_section(dataset)  # after cleaning: the same config again, before/after on unchanged test files


def map_of_task(task_id: str, dataset: str, where: str) -> None:
    """The task's banner while it runs; once finished, the map, the selection and the cleaner (outside the poll)."""
    task = get_task(task_id)
    if task is None or jobs.refresh(task) != FINISHED or (result := jobs.task_result(task)) is None:
        task_monitor(task_id, lambda result: None)
        return
    show_map(result, dataset, where)


def show_map(result: dict, dataset: str, where: str) -> None:
    points = result["points"]
    timings = result.get("timings", {})
    still_open = len(curation.open_issues(dataset, points["path"], points["flagged"]))  # by the log: never stale
    st.success(f"{result['images']:,} images, {result['feature_dim']}-dim features, {result['method'].upper()}; "
               f"{still_open} likely label issues still open, {result['leaking_pairs']} near-duplicate pair(s) "
               f"across splits ({result['duplicate_pairs']} in all). Features {timings.get('features_s', 0):.0f} s, "
               f"projection {timings.get('projection_s', 0):.0f} s.", icon=":material/scatter_plot:")
    config = result.get("config") or {}
    if config.get("weights") == "random" and not config.get("run"):
        st.caption("Computed from random-weight features, which are weaker than ImageNet ones: the label-issue "
                   "ranking and the map are less precise (the pixel rule for near-duplicates does not depend on them).")
    if result.get("label_source"):
        st.caption(result["label_source"])
    colour_by = st.radio("Colour by", figures.EMBEDDING_COLOURS, horizontal=True, key=f"map_colour_{where}")
    flagged = [i for i, flag in enumerate(points["flagged"]) if flag]
    figure = figures.embedding_map(points, colour_by, highlight=flagged)
    event = st.plotly_chart(figure, on_select="rerun", selection_mode=("box", "lasso"), key=f"map_chart_{where}")
    rows = figures.selected_rows(event)
    _found_lists(result, where)
    cleaner_section(dataset, result, rows, where)


def _found_lists(result: dict, where: str) -> None:
    """The ranked label issues and the near-duplicate pairs, as tables (the map shows where they are)."""
    issues, pairs = result.get("issues") or [], result.get("duplicates") or []
    with st.expander(f"Label issues, ranked ({result['flagged_issues']} flagged)"):
        if issues:
            st.dataframe(pd.DataFrame(issues).rename(columns=ISSUE_COLUMNS), hide_index=True, width="stretch",
                         key=f"map_issues_{where}")
            if len(issues) < result["images"]:
                st.caption(f"The top {len(issues):,} of {result['images']:,} images by score.")
    with st.expander(f"Near-duplicate pairs ({result['leaking_pairs']} across splits, {result['duplicate_pairs']} "
                     "in all)"):
        if pairs:
            st.dataframe(pd.DataFrame(pairs).rename(columns=PAIR_COLUMNS), hide_index=True, width="stretch",
                         key=f"map_pairs_{where}")
            if len(pairs) < result["duplicate_pairs"]:
                st.caption(f"The first {len(pairs):,} of {result['duplicate_pairs']:,} pairs (leakage first).")
        else:
            st.caption("None found.")
        if result.get("duplicate_rule"):
            st.caption(result["duplicate_rule"])
