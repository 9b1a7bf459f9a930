"""Dataset: choose the images, see what is in them, and fix the train/validation/test split."""

import pandas as pd
import streamlit as st

from pages._shared import current_dataset, load_scan, run_through_app, set_dataset, split_config
from tlcore import figures
from tlcore.data import BadFile, DatasetError, SplitConfig, find_bad_files, make_split, scan_folder
from tlcore.images import thumbnail
from tlcore.paths import data_root
from tlcore.sample import SAMPLE_NAME, sample_dataset_path

run_through_app()
SAMPLES_PER_CLASS = 8


@st.cache_data(show_spinner="Checking every image once…", max_entries=8)
def bad_files(path: str, fingerprint: str) -> list[dict]:
    return [vars(item) for item in find_bad_files(scan_folder(path))]


st.title("Dataset")
root = data_root()
current = current_dataset()
# Keyed: an unkeyed widget's identity includes its default, which follows `current`, so the first click or text typed
# after a dataset change was reset to the new default and lost.
source = st.radio("Source", ["Built-in sample: handwritten digits", "Folder on this server"], horizontal=True,
                  index=0 if current == SAMPLE_NAME else 1, key="dataset_source")
if source.startswith("Built-in"):
    chosen = str(sample_dataset_path().relative_to(root))
else:
    folders = sorted(entry.name for entry in root.iterdir() if entry.is_dir() and not entry.name.startswith("."))
    st.caption(f"Data root: `{root}` — one sub-folder per class, e.g. `my-pets/cats/*.jpg`, `my-pets/dogs/*.jpg`.")
    typed = st.text_input("Folder (under the data root)", value=current if current != SAMPLE_NAME else "",
                          placeholder=folders[0] if folders else "my-images", key="dataset_folder")
    chosen = typed.strip()
    if folders:
        st.caption("Folders here: " + ", ".join(f"`{name}`" for name in folders))
    if not chosen:
        st.stop()

scan = load_scan(chosen)
if scan is None:
    st.stop()
if chosen != current:
    set_dataset(chosen)

counts = scan.class_counts
left, middle, right = st.columns(3)
left.metric("Images", f"{len(scan.files):,}")
middle.metric("Classes", len(scan.class_names))
right.metric("Smallest class", f"{min(counts.values()):,}")
if scan.skipped:
    st.caption(f"Skipped {len(scan.skipped)} non-image or hidden file(s): "
               + ", ".join(f"`{name}`" for name in scan.skipped[:10]))
st.plotly_chart(figures.class_counts(counts), key="class_counts")

broken = bad_files(chosen, scan.fingerprint)
if broken:
    st.warning(f"{len(broken)} file(s) cannot be read and will be left out of training:",
               icon=":material/broken_image:")
    st.dataframe(pd.DataFrame(broken), hide_index=True, width="stretch")

st.subheader("Samples")
by_class: dict[int, list[str]] = {}
for relative, label in scan.files:
    by_class.setdefault(label, []).append(relative)
broken_paths = {item["path"] for item in broken}
for label, name in enumerate(scan.class_names):
    examples = [path for path in by_class.get(label, []) if path not in broken_paths][:SAMPLES_PER_CLASS]
    st.image([thumbnail(scan.root / path) for path in examples], caption=[name] * len(examples), width=64)

st.subheader("Split")
saved = split_config()
columns = st.columns(3)
# Keyed for the same reason as the source widgets: their defaults follow the saved split, which they update.
val_fraction = columns[0].slider("Validation share", 0.05, 0.4, saved.val_fraction, 0.05, key="split_val")
test_fraction = columns[1].slider("Test share", 0.0, 0.4, saved.test_fraction, 0.05, key="split_test")
seed = columns[2].number_input("Seed", 0, 2**31 - 1, saved.seed, key="split_seed")
config = SplitConfig(val_fraction, test_fraction, int(seed))
st.session_state["split_config"] = config
try:
    split = make_split(scan, config, excluded=[BadFile(**item) for item in broken])
except DatasetError as error:
    st.error(str(error), icon=":material/error:")
    st.stop()
split_counts = split.counts()
st.plotly_chart(figures.split_counts(split_counts), key="split_counts")
st.dataframe(pd.DataFrame(split_counts).rename_axis("class"), width="stretch")
st.caption("Stratified by class and seeded: every run on this dataset with these settings uses the same split.")
