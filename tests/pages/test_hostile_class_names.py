"""Class-folder names are shown as text on Demo and Evaluate (issue 31: "class-folder and file names render as
Markdown on Evaluate, Demo and the Dataset thumbnails"; the Dataset page has its own test in test_hostile_pages.py).
A run whose classes and dataset carry the injection strings is opened on both pages; no link, image, KaTeX, colour
directive or HTML is made from them."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from page_helpers import make_run
from test_hostile_pages import markup_made_from_user_text

from tlcore.config.training import TrainConfig
from tlcore.evaluation.metrics import classification_report, store_evaluation

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hostile_inputs import INJECTIONS  # noqa: E402

CLASSES = [INJECTIONS[0], INJECTIONS[1], INJECTIONS[3]]  # bold, links, an image, KaTeX, :red[], HTML, javascript:
DATASET = "**D** [L](javascript:alert(1)) $$K$$"  # a folder name (no slash)


def _hostile_run(studio):
    run = make_run(TrainConfig(dataset=DATASET, weights="random"), state="finished", class_names=CLASSES,
                   model=b"not read: the page shows the classes before any photo")
    truth = np.array([0, 0, 1, 1, 2, 2])
    probabilities = np.array([[.8, .1, .1], [.3, .6, .1], [.1, .8, .1], [.1, .7, .2], [.1, .2, .7], [.5, .1, .4]])
    folder = studio.data_root / "sample-digits"
    files = [f"{d}/{path.name}" for d in "012" for path in sorted((folder / d).glob("*.png"))[:2]]
    store_evaluation(run, classification_report(truth, probabilities, CLASSES, "test", files=files), probabilities)
    return run


def test_demo_shows_class_and_dataset_names_as_text(open_page, studio):
    run = _hostile_run(studio)

    at = open_page("pages/demo.py", query_params={"run": run.id})

    assert not at.exception
    assert any("javascript" in caption.value for caption in at.caption)  # the classes are shown ...
    assert markup_made_from_user_text(at) == []  # ... as text


def test_evaluate_shows_class_names_as_text(open_page, studio):
    run = _hostile_run(studio)

    at = open_page("pages/evaluate.py", query_params={"run": run.id})

    assert not at.exception
    assert markup_made_from_user_text(at) == []
