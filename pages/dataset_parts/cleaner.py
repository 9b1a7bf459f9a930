"""Dataset page, UI only: act on flagged or selected images (keep, relabel = move to another class folder, exclude =
move to the quarantine folder, undo) and the dataset's cleaning log. Every move is done and refused by
tlcore.curation.cleaner; this only draws it.

Nothing here acts on stale state: the candidates, the default class, the undo list and the counts are recomputed
from the dataset's action log on every run (where each file of the map is now), every widget is keyed by what it
offers (so a new list starts from its own default), and each button says which files it moves before the click.
"""

from __future__ import annotations

import zlib
from collections import Counter
from datetime import datetime
from pathlib import Path, PurePosixPath

import pandas as pd
import streamlit as st

from pages.shared import escape_markdown, inline_code
from pages.shared.auth import allowed, current_user
from tlcore import actions, curation
from tlcore.access import NotAllowed
from tlcore.datasets import cached_thumbnail, load_settings

SHOWN = 24  # thumbnails at once
ACTIONABLE = 500  # images offered at once to act on: a box around 20k points of a 50k map would make a huge list
PLANNED_LINES = 12  # files listed under a button before "and N more"
FLASH = "clean_flash"


def _key(*parts) -> str:
    return str(zlib.crc32(chr(0).join(map(str, parts)).encode()))


def _candidates(result: dict, rows: list[int], dataset: str, now: list[str]) -> tuple[str, list[int]]:
    """(caption, map rows to offer): the selection, or the flagged images still open; excluded files never."""
    points = result["points"]
    if rows:
        rows = [i for i in rows if not now[i].startswith(curation.QUARANTINE + "/")]
        return f"{len(rows)} selected on the map", rows
    flagged = curation.open_issues(dataset, points["path"], points["flagged"])
    flagged.sort(key=lambda i: -points["issue_score"][i])
    return f"{len(flagged)} likely label issues (select points on the map to choose others)", flagged


def _default_class(chosen_rows: list[int], now: list[str], points: dict, classes: list[str]) -> int | None:
    """The suggestion most of the chosen files share that differs from their present class; None (pick one) else."""
    wanted = Counter(points["suggested"][i] for i in chosen_rows
                     if points["suggested"][i] != PurePosixPath(now[i]).parent.name)
    if not wanted:
        return None
    name = wanted.most_common(1)[0][0]
    return classes.index(name) if name in classes else None


def _planned(label: str, lines: list[str]) -> None:
    more = f" … and {len(lines) - PLANNED_LINES} more" if len(lines) > PLANNED_LINES else ""
    st.caption(f"{label} " + "; ".join(inline_code(line) for line in lines[:PLANNED_LINES]) + more)


def cleaner_section(dataset: str, result: dict, rows: list[int], where: str) -> None:
    st.subheader("Cleaner")
    if FLASH in st.session_state:
        st.success(st.session_state.pop(FLASH), icon=":material/check_circle:")
    points, root = result["points"], Path(result["root"])
    now = curation.current_paths(dataset, points["path"])
    what, rows = _candidates(result, rows, dataset, now)
    st.caption(what)
    shown = rows[:SHOWN]
    thumbs = [(i, cached_thumbnail(root / now[i])) for i in shown]
    thumbs = [(i, thumb) for i, thumb in thumbs if thumb is not None]
    if thumbs:
        st.image([str(thumb) for _, thumb in thumbs], width=72,
                 caption=[escape_markdown(f"{now[i]} ({PurePosixPath(now[i]).parent.name} → {points['suggested'][i]}?)")
                          for i, _ in thumbs])
    read_only = curation.is_read_only(dataset) or not allowed("dataset_settings", load_settings(dataset).owner or None)
    if curation.is_read_only(dataset):
        st.info("This is a built-in or downloaded dataset: read-only. Copy it to a folder of your own under the data "
                "root to clean it.", icon=":material/lock:")
    version = len(curation.history(dataset))  # every action changes the keys below: no widget keeps a stale choice
    if rows:
        if len(rows) > ACTIONABLE:
            st.caption(f"The first {ACTIONABLE} of the {len(rows):,} images are offered below; select a smaller area "
                       "on the map to act on others.")
        rows = rows[:ACTIONABLE]
        row_of = {now[i]: i for i in rows}
        paths = list(row_of)
        chosen = st.multiselect("Images to act on", paths, default=paths[:1],
                                key=f"clean_files_{where}_{_key(version, *paths)}")
        chosen_rows = [row_of[path] for path in chosen]
        classes = result["class_names"]
        columns = st.columns([2, 1, 1, 1])
        new_class = columns[0].selectbox("New class", classes, index=_default_class(chosen_rows, now, points, classes),
                                         placeholder="pick a class", key=f"clean_class_{where}_{_key(version, *chosen)}")
        movable = [path for path in chosen if PurePosixPath(path).parent.name != new_class]
        enabled = {"Relabel": bool(movable) and new_class is not None, "Exclude": bool(chosen), "Keep": bool(chosen)}
        clicked = {name: column.button(name, key=f"clean_{name}_{where}", disabled=read_only or not enabled[name])
                   for name, column in zip(("Relabel", "Exclude", "Keep"), columns[1:])}
        if chosen:
            if new_class is not None and movable:
                _planned("Relabel moves:", curation.planned_moves(movable, "relabel", new_class))
            _planned("Exclude moves:", curation.planned_moves(chosen, "exclude"))
            _planned("Keep marks:", curation.planned_moves(chosen, "keep"))
        for name, done in clicked.items():
            if done:
                _apply(dataset, name, movable if name == "Relabel" else chosen, new_class)
    _log(dataset, read_only, where, version)


def _apply(dataset: str, name: str, paths: list[str], new_class: str | None) -> None:
    done, errors = [], []
    for path in paths:
        try:
            action = actions.clean_image(current_user(), dataset, name.lower(), path,
                                         new_class if name == "Relabel" else None)
            done.append(curation.describe(action))
        except (curation.CleaningRefused, NotAllowed) as error:
            errors.append(str(error))
    for error in errors:
        st.error(escape_markdown(error), icon=":material/block:")
    if done and not errors:
        st.session_state[FLASH] = f"{name}: " + "; ".join(escape_markdown(line) for line in done[:PLANNED_LINES]) + (
            f" … and {len(done) - PLANNED_LINES} more" if len(done) > PLANNED_LINES else "")
        st.rerun()  # candidates, default class, undo list and counts are recomputed from the log


def _log(dataset: str, read_only: bool, where: str, version: int) -> None:
    done = curation.history(dataset)
    if not done:
        return
    st.markdown("**Cleaning log** (kept with the dataset; files are moved, never deleted)")
    table = pd.DataFrame([{"When": datetime.fromtimestamp(a.at).strftime("%Y-%m-%d %H:%M:%S"), "Who": a.actor,
                           "Action": a.kind, "What": curation.describe(a), "From": a.source, "To": a.target}
                          for a in done])
    st.dataframe(table, hide_index=True, width="stretch", key=f"clean_log_{where}")
    undoable: dict[str, str] = {}  # what the action did → its id (newest first; a repeated text gets its time)
    for action in curation.undoable(dataset):
        text = curation.describe(action)
        if text in undoable:
            text += f" ({datetime.fromtimestamp(action.at):%H:%M:%S})"
        undoable[text] = action.id
    if not undoable:
        return
    left, right = st.columns([3, 1])
    chosen = left.selectbox("Action to undo", list(undoable), key=f"clean_undo_id_{where}_{version}")
    if right.button("Undo", key=f"clean_undo_{where}", disabled=read_only or not chosen):
        try:
            actions.undo_cleaning(current_user(), dataset, undoable[chosen])
            st.session_state[FLASH] = f"Undone: {escape_markdown(chosen)}"
            st.rerun()
        except (curation.CleaningRefused, NotAllowed) as error:
            st.error(escape_markdown(str(error)), icon=":material/block:")
