"""Injection strings and a 5,000-character id on every page (issue 31, items 2 and 3): whatever a URL parameter, a
folder, class or file name holds is shown as text; no link, image, KaTeX, colour directive or HTML is made from it,
and nothing raises."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hostile_inputs import INJECTIONS, LONG_ID  # noqa: E402

PAGES = ["pages/home.py", "pages/train.py", "pages/finetune.py", "pages/evaluate.py", "pages/predict.py",
         "pages/demo.py", "pages/dataset.py", "pages/storage.py"]
# Markdown constructs made from the injection strings, unescaped (an escaped one has a backslash before it)
_CONSTRUCTS = [re.compile(pattern) for pattern in (
    r"(?<!\\)\]\((?:https?|javascript)", r"(?<!\\)!\[", r"(?<!\\):red\[", r"(?<!\\)\$(?<!\\\$)\$", r"(?<!\\)<img",
    r"(?<!\\)<b>", r"(?<!\\)<a ", r"(?<!\\)\*\*B\*\*")]
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)  # a code span shows its text verbatim: safe


def markup_made_from_user_text(at) -> list[str]:
    """Every rendered Markdown body (text elements, alerts, button labels) that holds an unescaped construct."""
    bodies = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success", "title", "header", "subheader"):
        bodies += [str(element.value) for element in getattr(at, kind)]
    bodies += [str(button.label) for button in at.button]
    found = []
    for body in bodies:
        outside_code = _CODE_SPAN.sub("", body)
        if any(construct.search(outside_code) for construct in _CONSTRUCTS):
            found.append(body)
    return found


@pytest.mark.parametrize("page", PAGES)
def test_injection_in_the_url_is_shown_as_text(open_page, page):
    for injection in INJECTIONS[:3]:
        at = open_page(page, query_params={"run": injection, "job": injection, "dataset": injection})
        assert not at.exception
        assert markup_made_from_user_text(at) == [], (page, injection)


@pytest.mark.parametrize("page", ["pages/train.py", "pages/demo.py", "pages/evaluate.py", "pages/finetune.py"])
def test_a_5000_character_run_id_gets_a_clear_message(open_page, page):
    at = open_page(page, query_params={"run": LONG_ID, "job": LONG_ID})

    assert not at.exception
    shown = " ".join(str(element.value) for kind in ("error", "warning", "info") for element in getattr(at, kind))
    assert LONG_ID not in shown  # never echoed whole


def test_class_and_file_names_render_as_text_on_the_dataset_page(open_page, studio):
    evil = "**B** [L](javascript:alert(1)) ![I](x) :red[R] $$K$$ <img src=x onerror=alert(1)>"  # no slash
    digits = studio.data_root / "sample-digits"
    target = studio.data_root / "evil"
    for index, source in enumerate(sorted(path for path in digits.iterdir() if path.is_dir())[:2]):
        folder = target / (evil if index == 0 else "plain")
        folder.mkdir(parents=True)
        for number, image in enumerate(sorted(source.iterdir())[:6]):
            shutil.copy(image, folder / (f"{evil} {number}{image.suffix}" if index == 0 else image.name))

    at = open_page("pages/dataset.py", query_params={"dataset": "evil"})

    assert not at.exception
    assert markup_made_from_user_text(at) == []


def test_home_shows_disk_full_and_damaged_as_states(open_page):
    from page_helpers import make_run

    full = make_run(state="failed", error="disk full: 3 MB free, needs about 40 MB. Free space on the server "
                                          "(Storage page), then resume the run.")
    damaged = make_run(state="finished")
    (damaged.path / "status.json").write_text('{"state": "running", "pid": "abc"}')

    at = open_page("pages/home.py")

    rows = at.dataframe[0].value.set_index("run").to_dict("index")
    assert rows[full.id]["note"].startswith("disk full: 3 MB free")
    assert rows[damaged.id]["state"] == "damaged" and "pid" in rows[damaged.id]["damaged"]
    assert any("damaged" in warning.value for warning in at.warning)
