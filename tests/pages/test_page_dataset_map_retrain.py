"""Dataset page, "Map & clean": after cleaning, one button queues the same config on the cleaned split; once that
run has finished, the page shows before/after on the unchanged test files and the relabelled and excluded test files
apart. The retrained run's answers are written here (the real training behind the comparison is
tests/unit/curation/test_retrain.py::test_real_retrain_compares_on_the_unchanged_test_files), so this stays seconds."""

import os
import shutil

import pytest
from page_helpers import by_label, metric_value


@pytest.fixture
def cleaned_run(trained_run_master, studio, studio_dirs, standin_weights_master):
    """The shared tiny run copied into this page test's studio (its dataset, its stand-in "ImageNet" weights, in
    both Keras homes: the one tlcore checks and the one an already imported Keras reads); the files to clean."""
    from tlcore.runs.folders import get_run

    dataset = "tiny3"
    shutil.copytree(trained_run_master.parent.parent / "data" / dataset, studio.data_root / dataset,
                    copy_function=os.link)
    shutil.copytree(trained_run_master, studio.runs_dir / trained_run_master.name)
    for keras_models in {studio.keras_models.resolve(), (studio_dirs.keras_home / "models").resolve()}:  # one now
        shutil.copytree(standin_weights_master, keras_models, copy_function=os.link, dirs_exist_ok=True)
    run = get_run(trained_run_master.name)
    assert run.config().dataset == dataset
    test = run.split().test
    relabelled = next(path for path, label in test if label == 0)
    excluded = next(path for path, label in test if label == 1)
    return run, dataset, relabelled, excluded


def test_retrain_button_and_before_after(open_page, cleaned_run):
    import pandas as pd

    from tlcore.curation import before_after, exclude, relabel, retrains_of
    from tlcore.evaluation.metrics import load_predictions, predictions_path

    run, dataset, relabelled, excluded = cleaned_run
    at = open_page("pages/dataset.py", query_params={"dataset": dataset})
    assert not [button for button in at.button if button.label == "Retrain and compare"]  # nothing cleaned yet

    relabel(dataset, relabelled, "2")
    exclude(dataset, excluded)
    at.run()
    assert by_label(at.selectbox, "Run to retrain").value == run.id
    assert any("2 file(s)" in caption.value for caption in at.caption)
    by_label(at.button, "Retrain and compare").click().run()
    assert not at.exception, [item.value for item in at.exception]
    [after] = retrains_of(run.id)
    assert after.state == "queued" and after.config().dataset == dataset
    assert any("appears here when the retrained run has finished" in info.value for info in at.info)

    # the worker's outcome: the before run's answers on the cleaned split, every class-2 image now right
    answers = load_predictions(run)
    answers = answers[answers["file"] != excluded].copy()
    answers.loc[answers["file"] == relabelled, ["file", "true"]] = ["2/" + relabelled.split("/")[1], "2"]
    answers.loc[answers["true"] == "2", "predicted"] = "2"
    predictions_path(after).parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(answers).to_csv(predictions_path(after), index=False)
    after.update_status(state="finished", test_accuracy=0.9)
    at.run()
    assert not at.exception, [item.value for item in at.exception]
    result = before_after(after.id)
    assert result["unchanged_test_images"] == len(run.split().test) - 2
    assert [row["after"] for row in result["per_class"]][2] == 1.0
    assert metric_value(at, "Before (unchanged test files)") == f"{result['before_accuracy']:.1%}"
    assert metric_value(at, "After (same files)") == f"{result['after_accuracy']:.1%}"
    assert metric_value(at, "Unchanged test files") == str(result["unchanged_test_images"])
    tables = [frame.value for frame in at.dataframe]
    per_class = next(table for table in tables if "Change" in table.columns)
    assert list(per_class["Class"]) == ["0", "1", "2"]
    assert list(per_class["Images"]) == [row["images"] for row in result["per_class"]]
    assert list(next(t for t in tables if "New label" in t.columns)["Test file"]) == [relabelled]
    assert list(next(t for t in tables if "Label" in t.columns and "Now at" in t.columns)["Test file"]) == [excluded]
    markdown = " ".join(item.value for item in at.markdown)
    assert "relabelled" in markdown and "excluded" in markdown
