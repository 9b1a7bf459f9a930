"""Backbones page, KerasHub presets: which preset each foundation-model backbone loads, whether its folder is on this
server, exactly where to place it offline, and where its published figures come from. UI only."""

from __future__ import annotations

import streamlit as st

from tlcore import backbones
from tlcore.backbones import status

__all__ = ["kerashub_section"]


def kerashub_section() -> None:
    st.header("KerasHub presets")
    st.markdown(
        "DINOv2, ViT and CLIP's vision encoder load from KerasHub presets (`from_preset` takes a preset name, "
        "downloaded from Kaggle, or a local folder). TL Studio looks first for a folder `<preset>/` in the server's "
        "KerasHub presets folder (its admin sets where). To use one offline: on a machine with internet run "
        "`keras_hub.models.Backbone.from_preset(\"<preset>\").save_to_preset(\"<preset>\")` (CLIP: "
        "`keras_hub.models.CLIPBackbone`), copy the folder it writes (config.json, model.weights.h5, "
        "metadata.json …) there, and reload. Random initialisation is used only when you choose it on Train.")
    states = {backbone: status(backbone, backbone.default_size, probe_network=True)
              for backbone in backbones.KERASHUB.values()}
    st.dataframe([{"Backbone": backbone.name, "Preset": backbone.preset, "On this server": state.label,
                   "Folder": f"{state.path.name}/ (in the presets folder)", "Source of the figures": backbone.source}
                  for backbone, state in states.items()], hide_index=True, width="stretch", key="kerashub_table")
    for state in states.values():
        if not state.cached:
            st.info(state.advice, icon=":material/folder_open:")
