"""Dataset page, UI only: act on flagged or selected images (keep, relabel = move to another class folder, exclude =
move to the quarantine folder, undo) and the dataset's cleaning log. Every move is done and refused by
tlcore.curation.cleaner; this only draws it."""

from __future__ import annotations

import zlib
from datetime import datetime
from pathlib import Path

import pandas as pd
import streamlit as st

from pages.shared import escape_markdown
from pages.shared.auth import allowed, current_user
from tlcore import actions, curation
from tlcore.access import NotAllowed
from tlcore.datasets import cached_thumbnail, load_settings

SHOWN = 24  # thumbnails at once
ACTIONABLE = 500  # images offered at once to act on: a box around 20k points of a 50k map would make a huge list
def _candidates(result: dict, rows: list[int], dataset: str) -> tuple[str, list[int]]:
    points = result["points"]
    if rows:
        return f"{len(rows)} selected on the map", rows
    kept = curation.kept(dataset)
    flagged = [i for i, flag in enumerate(points["flagged"]) if flag and points["path"][i] not in kept]
    flagged.sort(key=lambda i: -points["issue_score"][i])
    return f"{len(flagged)} likely label issues (select points on the map to choose others)", flagged


def cleaner_section(dataset: str, result: dict, rows: list[int], where: str) -> None:
    st.subheader("Cleaner")
    what, rows = _candidates(result, rows, dataset)
    points, root = result["points"], Path(result["root"])
    st.caption(what)
    shown = rows[:SHOWN]
    thumbs = [(i, cached_thumbnail(root / points["path"][i])) for i in shown]
    thumbs = [(i, thumb) for i, thumb in thumbs if thumb is not None]
    if thumbs:
        st.image([str(thumb) for _, thumb in thumbs], width=72,
                 caption=[escape_markdown(f"{points['path'][i]} ({points['label'][i]} → {points['suggested'][i]}?)")
                          for i, _ in thumbs])
    read_only = curation.is_read_only(dataset) or not allowed("dataset_settings", load_settings(dataset).owner or None)
    if curation.is_read_only(dataset):
        st.info("This is a built-in or downloaded dataset: read-only. Copy it to a folder of your own under the data "
                "root to clean it.", icon=":material/lock:")
    if rows:
        if len(rows) > ACTIONABLE:
            st.caption(f"The first {ACTIONABLE} of the {len(rows):,} images are offered below; select a smaller area "
                       "on the map to act on others.")
        rows = rows[:ACTIONABLE]
        paths = [points["path"][i] for i in rows]
        # keyed by the candidates: a new selection on the map starts from its own first image, not the last choice
        chosen = st.multiselect("Images to act on", paths, default=paths[:1],
                                key=f"clean_files_{where}_{zlib.crc32(chr(0).join(paths).encode())}")
        columns = st.columns([2, 1, 1, 1])
        classes = result["class_names"]
        suggested = points["suggested"][rows[0]]
        new_class = columns[0].selectbox("New class", classes, index=classes.index(suggested),
                                         key=f"clean_class_{where}")
        clicked = {name: column.button(name, key=f"clean_{name}_{where}", disabled=read_only or not chosen)
                   for name, column in zip(("Relabel", "Exclude", "Keep"), columns[1:])}
        for name, done in clicked.items():
            if done:
                _apply(dataset, name, chosen, new_class)
    _log(dataset, read_only, where)


def _apply(dataset: str, name: str, paths: list[str], new_class: str) -> None:
    done = 0
    for path in paths:
        try:
            actions.clean_image(current_user(), dataset, name.lower(), path,
                                new_class if name == "Relabel" else None)
            done += 1
        except (curation.CleaningRefused, NotAllowed) as error:
            st.error(escape_markdown(str(error)), icon=":material/block:")
    if done:
        st.success(f"{name}: {done} image(s). Compute the map again to see the dataset as it is now.",
                   icon=":material/check_circle:")


def _log(dataset: str, read_only: bool, where: str) -> None:
    done = curation.history(dataset)
    if not done:
        return
    st.markdown("**Cleaning log** (kept with the dataset; files are moved, never deleted)")
    table = pd.DataFrame([{"When": datetime.fromtimestamp(a.at).strftime("%Y-%m-%d %H:%M:%S"), "Who": a.actor,
                           "Action": a.kind, "From": a.source, "To": a.target, "Id": a.id} for a in done])
    st.dataframe(table, hide_index=True, width="stretch", key=f"clean_log_{where}")
    undoable = [a.id for a in done if a.kind != "undo"]
    left, right = st.columns([3, 1])
    chosen = left.selectbox("Action to undo", list(reversed(undoable)), key=f"clean_undo_id_{where}")
    if right.button("Undo", key=f"clean_undo_{where}", disabled=read_only or not chosen):
        try:
            actions.undo_cleaning(current_user(), dataset, chosen)
            st.rerun()
        except (curation.CleaningRefused, NotAllowed) as error:
            st.error(escape_markdown(str(error)), icon=":material/block:")
