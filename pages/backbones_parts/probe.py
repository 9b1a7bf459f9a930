"""The Backbones page's quick probe: which backbone's features separate the current dataset's classes best."""

import pandas as pd
import streamlit as st

from pages.shared import dataset_label, task_monitor
from pages.shared.auth import start_task_id
from tlcore import backbones
from tlcore.backbones import status


def probe_section(dataset: str) -> None:
    st.header("Quick probe on your data")
    st.markdown(f"Fits a logistic regression on pooled features of a stratified sample of **{dataset_label(dataset)}** for each "
                "selected backbone and ranks them by validation accuracy: evidence for your images, in minutes.")
    probe_names = st.multiselect("Backbones to probe", backbones.pretrained_names(), default=["MobileNetV2"], key="probe_names")
    probe_cols = st.columns(3)
    probe_size = probe_cols[0].number_input("Input size (px)", min_value=32, max_value=600, value=96, step=16,
                                            key="probe_size")
    per_class = probe_cols[1].number_input("Images per class (at most)", min_value=4, max_value=500, value=30,
                                           key="probe_per_class")
    random_weights = probe_cols[2].checkbox("Random weights (no ImageNet)", key="probe_random",
                                            help="Probe untrained features. Without this, backbones whose ImageNet "
                                                 "weights are not cached on this server are reported as unavailable.")
    if not random_weights:
        missing = [name for name in probe_names if not status(backbones.get(name), int(probe_size)).cached]
        if missing:
            st.warning(f"ImageNet weights are not cached for: {', '.join(missing)}. They will be reported as "
                       "unavailable (never silently random). Upload the weights below, or tick 'Random weights'.",
                       icon=":material/cloud_off:")
    if st.button("Run quick probe", key="probe_button", disabled=not probe_names):
        st.session_state["probe_task"] = start_task_id("probe", {
            "dataset": dataset, "backbones": probe_names, "image_size": int(probe_size), "per_class": int(per_class),
            "weights": "random" if random_weights else "imagenet"})

    if st.session_state.get("probe_task"):
        task_monitor(st.session_state["probe_task"], show_probe)


def show_probe(result: dict) -> None:
    st.success(f"Probe of {result['images']} images ({result['classes']} classes, ≤{result['per_class']} per class) "
               f"at {result['image_size']} px with {result['weights']} weights.", icon=":material/leaderboard:")
    records = [{"Rank": row.get("rank"), "Backbone": row["backbone"], "Validation accuracy": row.get("val_accuracy"),
                "Seconds": row.get("seconds"), "Images/s": row.get("images_per_s"),
                "Feature dim": row.get("feature_dim"),
                "Note": row.get("error") or ("from cache" if row.get("cached") else "")} for row in result["rows"]]
    st.dataframe(pd.DataFrame(records), hide_index=True, width="stretch", key="probe_table",
                 column_config={"Validation accuracy": st.column_config.NumberColumn(format="percent")})
