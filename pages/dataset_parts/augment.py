"""Dataset page, UI only: augmentation settings stored with the dataset, and a 3×3 preview made by the training layers.

Keras is imported only when the preview is asked for, so the page itself still opens without TensorFlow.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from pages.shared.dataset_settings import save_dataset_settings
from tlcore.config import FLIP_MODES, AugmentConfig
from tlcore.datasets import DatasetScan, DatasetSettings
from tlcore.storage import DiskFull
from pages.shared.user_text import escape_markdown

PREVIEW_SIZE = 128
_SLIDERS = (("rotation", "RandomRotation (fraction of a full turn)", 0.5),
            ("zoom", "RandomZoom (fraction)", 0.5),
            ("translation", "RandomTranslation (fraction of height and width)", 0.5),
            ("contrast", "RandomContrast (factor)", 0.9),
            ("brightness", "RandomBrightness (fraction of 0..255)", 0.9),
            ("crop", "RandomCrop (fraction cut off, resized back to the input size)", 0.5))


def augmentation_section(path: str, scan: DatasetScan, settings: DatasetSettings, excluded: set[str]) -> None:
    stored = settings.augmentation
    token = str(scan.root)  # widget keys per dataset, so another dataset's values never leak into this one
    use = st.toggle("Use augmentation when training on this dataset", value=settings.augment, key=f"aug_use::{token}")
    flip = st.selectbox("RandomFlip", FLIP_MODES, index=FLIP_MODES.index(stored.flip), key=f"aug_flip::{token}")
    columns = st.columns(3)
    values = {name: columns[index % 3].slider(label, 0.0, top, float(getattr(stored, name)), 0.05,
                                              key=f"aug_{name}::{token}")
              for index, (name, label, top) in enumerate(_SLIDERS)}
    config = AugmentConfig(flip=flip, **values)
    if (use, config) != (settings.augment, stored):
        try:
            save_dataset_settings(path, replace(settings, augment=use, augmentation=config))  # owner, version checked
        except DiskFull as error:
            st.error(escape_markdown(str(error)), icon=":material/hard_drive:")
    st.caption("Stored with this dataset: every training run on it uses these layers inside the model, active only "
               "while training.")

    usable = [relative for relative, _ in scan.files if relative not in excluded]
    if not usable:
        return
    image_path = st.selectbox("Image to augment", usable[:500], key=f"aug_image::{token}")
    # A callback runs before the script, so the button already reads "Re-roll" in the run that shows the grid.
    st.button("Re-roll" if "aug_seed" in st.session_state else "Preview 9 augmentations", key="aug_roll",
              on_click=_next_seed)
    if "aug_seed" in st.session_state:
        _grid(scan.root / image_path, config, st.session_state["aug_seed"])


def _next_seed() -> None:
    st.session_state["aug_seed"] = st.session_state.get("aug_seed", -1) + 1


def _grid(image_path, config: AugmentConfig, seed: int) -> None:
    from tlcore.datasets import preview
    from tlcore.datasets import load_array

    with st.spinner("Running the augmentation layers (the first time loads TensorFlow)…"):
        tiles = preview(load_array(image_path, PREVIEW_SIZE), config, count=9, seed=seed)
    for row in range(3):
        st.image(tiles[row * 3:(row + 1) * 3], width=PREVIEW_SIZE,
                 caption=[f"training=True · #{row * 3 + i + 1}" for i in range(3)])
