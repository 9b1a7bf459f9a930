"""Dataset page, UI only: a paginated thumbnail grid per class and one image shown large with its details."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from pages.shared import escape_markdown
from tlcore.datasets import DatasetScan, cached_thumbnail, describe, large_view, page_of
from tlcore.datasets import BadImage

PER_PAGE = 24
ALL = "All classes"


def browse_section(scan: DatasetScan, excluded: set[str]) -> None:
    left, right = st.columns([3, 1])
    chosen_class = left.selectbox("Class", [ALL, *scan.class_names], key=f"browse_class::{scan.root}")
    wanted = None if chosen_class == ALL else scan.class_names.index(chosen_class)
    items = [(path, label) for path, label in scan.files
             if path not in excluded and (wanted is None or label == wanted)]
    page = right.number_input("Page", min_value=1, value=1, step=1, key=f"browse_page::{scan.root}")
    visible, pages = page_of(items, int(page), PER_PAGE)
    st.caption(f"{len(items):,} image(s) · page {min(int(page), pages)} of {pages} · thumbnails are made once and "
               "kept on disk")
    shown = [(path, label, cached_thumbnail(scan.root / path)) for path, label in visible]
    shown = [(path, label, thumb) for path, label, thumb in shown if thumb is not None]
    if not shown:
        return
    st.image([str(thumb) for _, _, thumb in shown],
             caption=[escape_markdown(f"{scan.class_names[label]} · {Path(path).name}") for path, label, _ in shown], width=96)
    selected = st.selectbox("Look at one image", [path for path, _, _ in shown], key=f"browse_image::{scan.root}")
    details = describe(scan.root / selected)
    name = escape_markdown(details["name"])
    if "problem" in details:
        st.error(f"{name}: {escape_markdown(details['problem'])}")
        return
    try:
        large = large_view(scan.root / selected)
    except (BadImage, OSError) as error:
        st.error(f"{name}: {escape_markdown(str(error))}")
        return
    st.image(large, width=min(480, max(96, large.width)))
    st.caption(f"**{name}** · {details['width']}×{details['height']} px · {details['bytes']:,} bytes · "
               f"stored as {details['mode']}")
