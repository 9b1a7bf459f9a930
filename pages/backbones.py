"""Backbones: every registered Keras application with its published figures, measured figures on this server,
a quick probe on the current dataset, and weights status (with upload for offline servers)."""

import pandas as pd
import streamlit as st

from pages._backbones_custom import custom_section
from pages._backbones_weights import weights_section
from pages._shared import current_dataset, run_through_app, task_monitor
from tlcore import backbones, figures, jobs, measure
from tlcore.backbones import PUBLISHED_SOURCE
from tlcore.paths import keras_models_dir
from tlcore.weights import registry_rows, status

PUBLISHED_COLUMNS = {
    "name": "Backbone", "family": "Family", "default_size": "Default px", "min_size": "Min px",
    "size_mb": st.column_config.NumberColumn("Size (MB)"),
    "top1": st.column_config.NumberColumn("Top-1", format="percent"),
    "top5": st.column_config.NumberColumn("Top-5", format="percent"),
    "parameters_m": st.column_config.NumberColumn("Params (M)"),
    "depth": "Depth", "cpu_ms": st.column_config.NumberColumn("CPU ms/step"),
    "gpu_ms": st.column_config.NumberColumn("GPU ms/step"), "weights": "ImageNet weights",
}

run_through_app()
st.title("Backbones")
st.markdown("Pretrained networks to build on. Published figures are ImageNet results at each network's default "
            "input size; weights status says whether this server can use the pretrained weights.")

rows = registry_rows()
table = pd.DataFrame(rows)
families = st.multiselect("Families", sorted(table["family"].unique()))
if families:
    table = table[table["family"].isin(families)]
st.dataframe(table, hide_index=True, width="stretch", column_config=PUBLISHED_COLUMNS)
st.caption(f"Source: {PUBLISHED_SOURCE}. Empty cells: the documentation gives no figure. Weights are looked for in "
           f"`{keras_models_dir()}`.")

axis = st.radio("Plot top-1 against", ["cpu_ms", "size_mb"], horizontal=True, key="scatter_axis",
                format_func={"cpu_ms": "published CPU latency", "size_mb": "size (MB)"}.get)
st.plotly_chart(figures.published_scatter(table.to_dict("records"), x=axis), key="published_scatter")
st.caption("Red diamonds: the Pareto front, where no other backbone is both at least as cheap and more accurate.")

compare = st.multiselect("Compare side by side", backbones.names(), default=["MobileNetV2", "EfficientNetB0"],
                         key="compare")
if compare:
    side_by_side = pd.DataFrame(rows).set_index("name").loc[compare].T.astype(str).replace({"None": "–", "nan": "–"})
    st.dataframe(side_by_side, width="stretch", key="compare_table")

# --- measured on this server ------------------------------------------------------------------------------------
st.header("Measured on this server")
st.markdown("Parameters, layers, feature size and latency of each base (no ImageNet top) at the input size you "
            "choose, on the device this server would train on. Built with random weights: the weights' values "
            "change neither speed nor counts, so nothing is downloaded.")
measure_names = st.multiselect("Backbones to measure", backbones.names(), default=["MobileNetV2"], key="measure_names")
measure_size = st.number_input("Input size (px)", min_value=32, max_value=600, value=96, step=16, key="measure_size")
if st.button("Measure on this server", key="measure_button", disabled=not measure_names):
    task = jobs.submit_task("measure", {"backbones": measure_names, "image_size": int(measure_size)})
    st.session_state["measure_task"] = task.id


def show_measurements(result: dict) -> None:
    st.success(f"Measured on **{result.get('device') or 'no device (every backbone failed)'}** at "
               f"{result['image_size']} px.", icon=":material/speed:")
    st.dataframe(pd.DataFrame(measure.readable_rows(result)), hide_index=True, width="stretch", key="measure_table")
    st.caption("Published latency is per inference step (batch of 32) at the default size on the documentation's "
               "machine; measured latency is per image at the chosen size here (median after warm-up).")


if st.session_state.get("measure_task"):
    task_monitor(st.session_state["measure_task"], show_measurements)
else:
    earlier = measure.cached_measurements(int(measure_size))
    if earlier:
        show_measurements({"device": ", ".join(sorted({row["device"] for row in earlier})),
                           "image_size": int(measure_size), "rows": [{**row, "cached": True} for row in earlier]})

# --- quick probe ------------------------------------------------------------------------------------------------
st.header("Quick probe on your data")
dataset = current_dataset()
st.markdown(f"Fits a logistic regression on pooled features of a stratified sample of **`{dataset}`** for each "
            "selected backbone and ranks them by validation accuracy: evidence for your images, in minutes.")
probe_names = st.multiselect("Backbones to probe", backbones.names(), default=["MobileNetV2"], key="probe_names")
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
    task = jobs.submit_task("probe", {"dataset": dataset, "backbones": probe_names, "image_size": int(probe_size),
                                      "per_class": int(per_class),
                                      "weights": "random" if random_weights else "imagenet"})
    st.session_state["probe_task"] = task.id


def show_probe(result: dict) -> None:
    st.success(f"Probe of {result['images']} images ({result['classes']} classes, ≤{result['per_class']} per class) "
               f"at {result['image_size']} px with {result['weights']} weights.", icon=":material/leaderboard:")
    records = [{"Rank": row.get("rank"), "Backbone": row["backbone"], "Validation accuracy": row.get("val_accuracy"),
                "Seconds": row.get("seconds"), "Images/s": row.get("images_per_s"),
                "Feature dim": row.get("feature_dim"),
                "Note": row.get("error") or ("from cache" if row.get("cached") else "")} for row in result["rows"]]
    st.dataframe(pd.DataFrame(records), hide_index=True, width="stretch", key="probe_table",
                 column_config={"Validation accuracy": st.column_config.NumberColumn(format="percent")})


if st.session_state.get("probe_task"):
    task_monitor(st.session_state["probe_task"], show_probe)

# --- weights, and your own model as a backbone -----------------------------------------------------------------
weights_section(compare)
custom_section()
