"""Backbones: every registered Keras application with its published figures and whether its weights are here."""

import pandas as pd
import streamlit as st

from tlcore import backbones, figures
from tlcore.backbones import PUBLISHED_SOURCE
from tlcore.paths import keras_models_dir
from tlcore.weights import status

st.title("Backbones")
st.markdown("Pretrained networks to build on. Published figures are ImageNet results at each network's default "
            "input size; weights status says whether this server can use the pretrained weights.")

rows = []
for backbone in backbones.REGISTRY.values():
    row = backbone.to_row()
    row["weights"] = status(backbone, backbone.default_size).label
    rows.append(row)
table = pd.DataFrame(rows)
families = st.multiselect("Families", sorted(table["family"].unique()))
if families:
    table = table[table["family"].isin(families)]
st.dataframe(
    table, hide_index=True, width="stretch",
    column_config={
        "name": "Backbone", "family": "Family", "default_size": "Default px", "min_size": "Min px",
        "size_mb": st.column_config.NumberColumn("Size (MB)"),
        "top1": st.column_config.NumberColumn("Top-1", format="percent"),
        "top5": st.column_config.NumberColumn("Top-5", format="percent"),
        "parameters_m": st.column_config.NumberColumn("Params (M)"),
        "depth": "Depth", "cpu_ms": st.column_config.NumberColumn("CPU ms/step"),
        "gpu_ms": st.column_config.NumberColumn("GPU ms/step"), "weights": "ImageNet weights",
    },
)
st.caption(f"Source: {PUBLISHED_SOURCE}. Empty cells: the documentation gives no figure. Weights are looked for in "
           f"`{keras_models_dir()}`.")
st.plotly_chart(figures.published_scatter(table.to_dict("records")), key="published_scatter")
