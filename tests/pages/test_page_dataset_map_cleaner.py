"""The cleaner never acts on stale state: after each click the candidates, the default class, the undo list and the
count come from the action log (the map is not recomputed), and each button names the files it moves before the
click. Drives relabel → exclude → keep → undo, checking every file's folder after each step."""

import os

import pytest
from page_helpers import by_label

from tlcore.jobs.tasks import create_task
from tlcore.storage.atomic import write_json_atomic

CLASSES = ("0", "1", "2")


@pytest.fixture
def mine(studio):
    for name in CLASSES:
        (studio.data_root / "mine" / name).mkdir(parents=True)
        for image in sorted((studio.data_root / "sample-digits" / name).glob("*.png"))[:4]:
            os.link(image, studio.data_root / "mine" / name / image.name)
    return studio.data_root / "mine"


def _map_with_issues(root, flagged: dict[str, tuple[str, float]]):
    """A finished map whose flagged files are {path: (suggested class, score)}."""
    paths = sorted(str(p.relative_to(root)) for p in root.glob("*/*.png"))
    n = len(paths)
    points = {"path": paths, "split": ["train"] * n, "label": [p.split("/")[0] for p in paths],
              "x": [float(i) for i in range(n)], "y": [float(i % 3) for i in range(n)],
              "issue_score": [flagged.get(p, (None, 0.1))[1] for p in paths],
              "suggested": [flagged.get(p, (p.split("/")[0],))[0] for p in paths],
              "flagged": [p in flagged for p in paths], "outlier_score": [0.5] * n,
              "correct": [None] * n, "confidence": [None] * n}
    task = create_task("embedding_map", {"dataset": root.name})
    write_json_atomic(task.path / "result.json", {
        "root": str(root), "class_names": list(CLASSES), "images": n, "feature_dim": 64, "method": "pca",
        "points": points, "flagged_issues": len(flagged), "issues": [], "duplicates": [],
        "duplicate_pairs": 0, "leaking_pairs": 0, "timings": {}})
    task.update_status(state="finished")
    return task


def _no_refusal(at):
    assert not at.exception, [item.value for item in at.exception]
    refused = [item.value for item in at.error if item.icon == ":material/block:"]  # the cleaner's refusals
    assert not refused, refused


def _folder_of(root, name):
    found = [p.relative_to(root) for p in root.rglob(name)]
    assert len(found) == 1, found
    return str(found[0].parent)


def test_relabel_exclude_keep_undo_each_acts_on_the_files_it_names(open_page, mine):
    first, second, third = (sorted(p.name for p in (mine / c).glob("*.png"))[0] for c in CLASSES)
    flagged = {f"0/{first}": ("2", 0.9), f"1/{second}": ("0", 0.8), f"2/{third}": ("1", 0.7)}
    at = open_page("pages/dataset.py", query_params={"dataset": "mine"})
    at.session_state[f"map_task::{mine.resolve()}"] = _map_with_issues(mine, flagged).id
    at.run()
    assert not at.exception, [item.value for item in at.exception]
    assert any("3 likely label issues still open" in item.value for item in at.success)

    # relabel: the first issue, to its own suggestion, named before the click
    assert by_label(at.multiselect, "Images to act on").value == [f"0/{first}"]
    assert by_label(at.selectbox, "New class").value == "2"
    assert any(f"0/{first} 0 → 2" in item.value for item in at.caption)
    by_label(at.button, "Relabel").click().run()
    _no_refusal(at)
    assert (_folder_of(mine, first), _folder_of(mine, second), _folder_of(mine, third)) == ("2", "1", "2")
    assert any("2 likely label issues still open" in item.value for item in at.success)

    # exclude: the next issue is the default now (not the file just moved), and its own suggestion the class
    assert by_label(at.multiselect, "Images to act on").value == [f"1/{second}"]
    assert by_label(at.selectbox, "New class").value == "0"
    assert any(f"1/{second} → _excluded/1/{second}" in item.value for item in at.caption)
    by_label(at.button, "Exclude").click().run()
    _no_refusal(at)
    assert (_folder_of(mine, first), _folder_of(mine, second), _folder_of(mine, third)) == ("2", "_excluded/1", "2")

    # keep: the third issue, which stays where it is
    assert by_label(at.multiselect, "Images to act on").value == [f"2/{third}"]
    by_label(at.button, "Keep").click().run()
    _no_refusal(at)
    assert (_folder_of(mine, first), _folder_of(mine, second), _folder_of(mine, third)) == ("2", "_excluded/1", "2")
    assert any("0 likely label issues still open" in item.value for item in at.success)

    # undo: actions listed by what they did, newest first; undoing the relabel brings exactly that file back
    undo_picker = by_label(at.selectbox, "Action to undo")
    assert list(undo_picker.options) == [f"kept 2/{third} as it is", f"excluded 1/{second} (now in _excluded/)",
                      f"moved 0/{first} 0 → 2"]
    undo_picker.select_index(2).run()
    by_label(at.button, "Undo").click().run()
    _no_refusal(at)
    assert (_folder_of(mine, first), _folder_of(mine, second), _folder_of(mine, third)) == ("0", "_excluded/1", "2")
    undo_picker = by_label(at.selectbox, "Action to undo")
    assert list(undo_picker.options) == [
        f"kept 2/{third} as it is", f"excluded 1/{second} (now in _excluded/)"]
    assert any("1 likely label issues still open" in item.value for item in at.success)  # the relabel is undone
