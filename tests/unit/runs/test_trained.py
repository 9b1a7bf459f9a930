"""Opening a finished run for evaluation or export: everything it needs, or one refusal naming the use."""

import pytest

from tlcore.runs.folders import create_run
from tlcore.runs.trained import open_trained_run


def test_a_trained_run_opens_with_its_split_config_and_dataset_root(trained_run):
    trained = open_trained_run(trained_run.id, "export")

    assert trained.run == trained_run and trained.split == trained_run.split()
    assert trained.config == trained_run.config()
    assert all((trained.root / path).is_file() for path, _ in trained.split.held_out[1])


@pytest.mark.parametrize("doing", ["evaluate", "export"])
def test_a_run_without_a_model_is_refused_naming_the_use(digits, make_config, doing):
    run = create_run(make_config(digits.name))

    with pytest.raises(ValueError, match=rf"^Run {run.id} has no trained model to {doing} yet \(state: queued\)\.$"):
        open_trained_run(run.id, doing)
