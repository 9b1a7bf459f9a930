"""Backbones: every registered Keras application with its published figures, measured figures on this server,
a quick probe on the current dataset, and weights status (with upload for offline servers)."""

import pandas as pd
import streamlit as st

from pages.backbones_parts.custom import custom_section
from pages.backbones_parts.kerashub import kerashub_section
from pages.backbones_parts.probe import probe_section
from pages.backbones_parts.weights import weights_section
from pages.shared import current_dataset, run_through_app, task_monitor
from pages.shared.auth import start_task_id
from tlcore import backbones, figures
from tlcore.backbones import PUBLISHED_SOURCE, registry_rows

PUBLISHED_COLUMNS = {
    "name": "Backbone", "family": "Family", "default_size": "Default px", "min_size": "Min px",
    "size_mb": st.column_config.NumberColumn("Size (MB)"),
    "top1": st.column_config.NumberColumn("Top-1", format="percent"),
    "top5": st.column_config.NumberColumn("Top-5", format="percent"),
    "parameters_m": st.column_config.NumberColumn("Params (M)"),
    "depth": "Depth", "cpu_ms": st.column_config.NumberColumn("CPU ms/step"),
    "gpu_ms": st.column_config.NumberColumn("GPU ms/step"), "weights": "Pretrained weights", "source": "Source",
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
st.caption(f"Source: {PUBLISHED_SOURCE}; KerasHub backbones: the sources under **KerasHub presets** below. Empty "
           "cells: the source gives no figure. Keras weights are looked for in the server's Keras weights folder, "
           "KerasHub preset folders in its KerasHub presets folder (the server's admin knows where).")

axis = st.radio("Plot top-1 against", ["cpu_ms", "size_mb"], horizontal=True, key="scatter_axis",
                format_func={"cpu_ms": "published CPU latency", "size_mb": "size (MB)"}.get)
st.plotly_chart(figures.published_scatter(table.to_dict("records"), x=axis), key="published_scatter")
st.caption("Red diamonds: the Pareto front, where no other backbone is both at least as cheap and more accurate.")

compare = st.multiselect("Compare side by side", backbones.pretrained_names(), default=["MobileNetV2", "EfficientNetB0"],
                         key="compare")
if compare:
    side_by_side = pd.DataFrame(rows).set_index("name").loc[compare].T.astype(str).replace({"None": "–", "nan": "–"})
    st.dataframe(side_by_side, width="stretch", key="compare_table")

# --- measured on this server ------------------------------------------------------------------------------------
st.header("Measured on this server")
st.markdown("Parameters, layers, feature size and latency of each base (no ImageNet top) at the input size you "
            "choose, on the device this server would train on. Built with random weights: the weights' values "
            "change neither speed nor counts, so nothing is downloaded.")
measure_names = st.multiselect("Backbones to measure", backbones.pretrained_names(), default=["MobileNetV2"], key="measure_names")
measure_size = st.number_input("Input size (px)", min_value=32, max_value=600, value=96, step=16, key="measure_size")
if st.button("Measure on this server", key="measure_button", disabled=not measure_names):
    st.session_state["measure_task"] = start_task_id("measure", {"backbones": measure_names,
                                                                 "image_size": int(measure_size)})


def show_measurements(result: dict) -> None:
    st.success(f"Measured on **{result.get('device') or 'no device (every backbone failed)'}** at "
               f"{result['image_size']} px.", icon=":material/speed:")
    st.dataframe(pd.DataFrame(backbones.readable_rows(result)), hide_index=True, width="stretch", key="measure_table")
    st.caption("Published latency is per inference step (batch of 32) at the default size on the documentation's "
               "machine; measured latency is per image at the chosen size here (median after warm-up).")


if st.session_state.get("measure_task"):
    task_monitor(st.session_state["measure_task"], show_measurements)
else:
    earlier = backbones.cached_measurements(int(measure_size))
    if earlier:
        show_measurements({"device": ", ".join(sorted({row["device"] for row in earlier})),
                           "image_size": int(measure_size), "rows": [{**row, "cached": True} for row in earlier]})

probe_section(current_dataset())

# --- weights, and your own model as a backbone -----------------------------------------------------------------
weights_section(compare)
kerashub_section()
custom_section()
