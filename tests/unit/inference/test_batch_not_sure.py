"""Batch prediction with a calibrated run: each row's answer is "not sure" below the run's threshold, and the CSV
carries that answer beside the class it would have given."""

import csv
import io

import pytest


def test_rows_and_csv_say_not_sure_below_the_threshold(calibrated_run):
    from tlcore.evaluation.confidence import set_target_accuracy
    from tlcore.inference.batch import batch_predict_task, rows_to_csv

    threshold = set_target_accuracy(calibrated_run, 1.0)["reject"]["threshold"]

    result = batch_predict_task({"model": {"run": calibrated_run.id}, "folder": "digits3", "top_k": 2},
                                lambda fraction, message: None)

    rows = result["rows"]
    assert len(rows) == 180 and result["errors"] == 0
    unsure = [row for row in rows if row["answer"] == "not sure"]
    assert 0 < len(unsure) < len(rows)
    for row in rows:
        assert (row["answer"] == "not sure") == (row["probability"] < threshold)
        assert row["answer"] in ("not sure", row["predicted"])
    table = list(csv.DictReader(io.StringIO(rows_to_csv(rows))))
    assert list(table[0]) == ["image", "answer", "predicted", "probability", "top_k", "error"]
    assert [line["answer"] for line in table] == [row["answer"] for row in rows]
    assert float(table[0]["probability"]) == pytest.approx(rows[0]["probability"])
