"""Home page: the runs table, or a pointer to Train when there are none."""

import numpy as np
import pandas as pd
from page_helpers import make_run, texts

from tlcore.evaluation.metrics import classification_report


def test_no_runs_shows_the_info(open_page):
    at = open_page("pages/home.py")

    assert "TL Studio" in texts(at.title)
    assert any(text.startswith("No runs yet") for text in texts(at.info))
    assert len(at.dataframe) == 0
    assert any("`sample-digits`" in text for text in texts(at.markdown))


def test_runs_table_lists_each_run_with_its_state(open_page):
    report = classification_report(np.array([0, 1, 1, 0]), np.array([[.9, .1], [.2, .8], [.6, .4], [.7, .3]]),
                                   ["cats", "dogs"])
    finished = make_run(state="finished", epochs_done=3, val_accuracy=0.8, class_names=["cats", "dogs"],
                        history=[{"epoch": e, "phase": "head", "loss": 1 / e, "accuracy": .5 + e / 10}
                                 for e in (1, 2, 3)],
                        evaluation=report)
    failed = make_run(state="failed", error="Out of memory")
    waiting = make_run(state="queued")  # no worker pid: stays queued

    at = open_page("pages/home.py")

    assert not texts(at.info)
    table: pd.DataFrame = at.dataframe[0].value
    rows = table.set_index("run").to_dict("index")
    assert set(rows) == {finished.id, failed.id, waiting.id}
    assert rows[finished.id]["state"] == "finished"
    assert rows[finished.id]["epochs"] == 3
    assert rows[finished.id]["test_accuracy"] == report["accuracy"] == 0.75
    assert rows[failed.id]["state"] == "failed"
    assert rows[waiting.id]["state"] == "queued"
    assert f"Queue: {waiting.id}" in texts(at.caption)
