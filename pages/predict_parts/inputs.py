"""UI for choosing what to classify: uploads, a camera photo, or images picked from the current dataset."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from pages.shared import current_dataset, escape_markdown
from tlcore.datasets import DatasetError, scan_folder
from tlcore.datasets import IMAGE_EXTENSIONS
from tlcore.storage import PathOutsideRoot

MAX_LISTED_FILES = 500


def chosen_images() -> list[tuple[str, bytes | Path]]:
    """(name, bytes or file) for everything the user chose, uploads first."""
    uploads = st.file_uploader("Images", accept_multiple_files=True,
                               type=sorted(extension.lstrip(".") for extension in IMAGE_EXTENSIONS))
    named: list[tuple[str, bytes | Path]] = [(upload.name, upload.getvalue()) for upload in uploads or []]
    left, right = st.columns(2)
    if left.toggle("Use the camera", key="predict_camera",
                   help="The browser asks for the camera; it works on localhost or over HTTPS."):
        photo = st.camera_input("Take a photo")
        if photo is not None:
            named.append(("camera photo", photo.getvalue()))
    if right.toggle("Pick from the dataset", key="predict_from_dataset"):
        named += _dataset_images()
    return named


@st.cache_data(show_spinner=False, max_entries=4)
def _dataset_files(dataset: str) -> tuple[str, list[str], list[tuple[str, int]]]:
    scan = scan_folder(dataset)
    return str(scan.root), scan.class_names, scan.files


def _dataset_images() -> list[tuple[str, Path]]:
    dataset = current_dataset()
    try:
        root, class_names, files = _dataset_files(dataset)
    except (DatasetError, PathOutsideRoot) as error:
        st.error(escape_markdown(str(error)), icon=":material/error:")
        return []
    chosen_class = st.selectbox(f"Class folder of {Path(root).name}", class_names, key="predict_dataset_class")
    index = class_names.index(chosen_class)
    in_class = [relative for relative, label in files if label == index][:MAX_LISTED_FILES]
    picked = st.multiselect("Dataset images", in_class, default=in_class[:1], key=f"predict_dataset_{index}",
                            format_func=lambda relative: Path(relative).name)
    return [(relative, Path(root) / relative) for relative in picked]
