"""Dataset: choose the images, see what is in them (health, thumbnails, augmentation), and fix the split."""

from dataclasses import replace

import pandas as pd
import streamlit as st

from pages.dataset_parts.augment import augmentation_section
from pages.dataset_parts.browse import browse_section
from pages.dataset_parts.embedding_map import embedding_map_section
from pages.dataset_parts.health import health_section
from pages.dataset_parts.labeling import add_examples_section, labeling_queue_section
from pages.dataset_parts.sources import choose_dataset
from pages.shared import current_dataset, escape_markdown, inline_code, load_scan, run_through_app, set_dataset
from pages.shared.dataset_settings import load_dataset_settings, save_dataset_settings
from tlcore import figures, labeling
from tlcore.config import SplitConfig
from tlcore.datasets import DatasetError, split_dataset
from tlcore.storage import DiskFull

run_through_app()

st.title("Dataset")
current = current_dataset()
chosen = choose_dataset(current)
if not chosen:
    st.stop()
scan = load_scan(chosen)
if scan is None:
    if labeling.can_add_examples(chosen):  # a folder of your own with fewer than two classes: start them here
        add_examples_section(chosen)
    st.stop()
if chosen != current:
    set_dataset(chosen)
settings = load_dataset_settings(chosen)  # remembers the version this session saw first

counts = scan.class_counts
left, middle, right = st.columns(3)
left.metric("Images", f"{len(scan.files):,}")
middle.metric("Classes", len(scan.class_names))
right.metric("Smallest class", f"{min(counts.values()):,}")
if scan.empty_classes:
    st.warning(f"Left out of training: {len(scan.empty_classes)} class folder(s) without images ("
               + ", ".join(inline_code(name) for name in scan.empty_classes) + "). Add images to train on them.",
               icon=":material/folder_off:")
if scan.skipped:
    st.caption(f"Skipped {len(scan.skipped)} non-image or hidden file(s): "
               + ", ".join(inline_code(name) for name in scan.skipped[:10]))
st.plotly_chart(figures.class_counts(counts), key="class_counts")

browse_tab, health_tab, augment_tab, split_tab, map_tab, label_tab = st.tabs(
    ["Browse", "Health", "Augmentation", "Split", "Map & clean", "Add & label"])

with split_tab:
    saved = settings.split
    if scan.presplit:
        folders = ", ".join(f"`{folder}/`" for folder in scan.split_folders.values())
        carved = "" if "val" in scan.split_folders else " The validation share is taken from train/ (seeded)."
        st.info(f"Pre-split dataset: the existing {folders} folders are used as they are.{carved}",
                icon=":material/call_split:")
    columns = st.columns(3)
    # Keyed per dataset: the defaults follow the split stored with each dataset, which these widgets update.
    val_fraction = columns[0].slider("Validation share", 0.05, 0.4, saved.val_fraction, 0.05,
                                     key=f"split_val::{scan.root}", disabled="val" in scan.split_folders)
    test_fraction = columns[1].slider("Test share", 0.0, 0.4, saved.test_fraction, 0.05,
                                      key=f"split_test::{scan.root}", disabled=scan.presplit)
    seed = columns[2].number_input("Seed", 0, 2**31 - 1, saved.seed, key=f"split_seed::{scan.root}")
    config = SplitConfig(val_fraction, test_fraction, int(seed))
    if config != saved:
        settings = replace(settings, split=config)
        try:
            save_dataset_settings(chosen, settings)  # as the signed-in user: owner and version checked
        except DiskFull as error:
            st.error(escape_markdown(str(error)), icon=":material/hard_drive:")

with health_tab:
    report = health_section(chosen, scan, config)
unreadable = report["unreadable"] if report else []
excluded = {item["path"] for item in unreadable}

with browse_tab:
    browse_section(scan, excluded)

with augment_tab:
    augmentation_section(chosen, scan, settings, excluded)

with map_tab:
    embedding_map_section(chosen, scan)

with label_tab:
    add_examples_section(chosen)
    labeling_queue_section(chosen, scan)

with split_tab:
    try:
        split = split_dataset(scan, config, decode=False)  # as training splits it, with the bad files checked so far
    except DatasetError as error:
        st.error(escape_markdown(str(error)), icon=":material/error:")
        st.stop()
    split_counts = split.counts()
    st.plotly_chart(figures.split_counts(split_counts), key="split_counts")
    st.dataframe(pd.DataFrame(split_counts).rename_axis("class"), width="stretch")
    st.caption("Stratified by class and seeded, and stored with this dataset: every run on it uses this split until "
               "you change it here.")
