"""The notebook download: the current Train form, or any finished run, as a Jupyter notebook in plain Keras.

UI only: the notebook is tlcore.modeling.notebook_bytes; the split is made (or read) only when the button is pressed.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from tlcore import modeling, training
from tlcore.config import TrainConfig
from tlcore.datasets import DatasetError, scan_folder
from tlcore.runs import get_run, lineage_configs

HELP = ("One step per cell with a short explanation, the same split and settings, and the labs' plots (augmentation "
        "grid, learning curves, confusion matrix). Needs TensorFlow (Keras 3), NumPy, Pillow and plotly.")


def notebook_download(config: TrainConfig, key: str = "download_notebook") -> None:
    """The form's configuration as a notebook (its split is made as training would make it)."""
    st.download_button("Download notebook (.ipynb)", key=key, icon=":material/description:", help=HELP,
                       data=lambda: modeling.notebook_bytes(config, *training.prepare_split(config)),
                       file_name=f"{config.dataset}-{config.backbone}.ipynb", mime="application/x-ipynb+json")


def run_notebook_download(run_id: str) -> None:
    """A finished run as a notebook, on the run's own split.json, with every phase it continues (its parent runs)."""
    try:
        run = get_run(run_id)
    except KeyError:
        return  # the monitor says so
    split = run.split()
    if run.status().get("state") != "finished" or split is None:
        return
    try:
        root: Path = scan_folder(run.config().dataset).root
    except DatasetError as error:
        st.caption(f"Notebook: the run's dataset cannot be read here ({error}).")
        return
    st.download_button(f"Download run {run_id} as a notebook (.ipynb)", key="download_run_notebook",
                       icon=":material/description:", help=HELP,
                       data=lambda: modeling.notebook_bytes(run.config(), root, split, lineage_configs(run)),
                       file_name=f"{run_id}.ipynb", mime="application/x-ipynb+json")
