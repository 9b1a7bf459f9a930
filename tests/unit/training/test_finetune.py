"""Fine-tuning as a second job: it starts from the parent's model, numbers its epochs on, and keeps the test split."""

import pytest

from tlcore.jobs import scheduler as jobs
from tlcore.modeling.model import count_params


def test_fine_tune_job_continues_the_parents_history_on_the_parents_test_split(trained_run, wait):
    parent_config = trained_run.config()
    assert parent_config.fine_tune_at is None and parent_config.epochs == 1  # phase 1 trained the head only

    child = jobs.submit(parent_config.fine_tune(parent_run=trained_run.id, fine_tune_at=50, epochs=1))
    status = wait.state(child, "finished", "failed", "cancelled")

    assert status["state"] == "finished", status.get("error")
    assert child.id.endswith("_mobilenetv2_finetune")
    history = child.history()
    assert [(row["epoch"], row["phase"]) for row in history] == [(1, 1), (2, 2)]
    assert history[0] == trained_run.history()[0]  # phase 1 as the parent recorded it
    assert history[0]["learning_rate"] == pytest.approx(parent_config.learning_rate, rel=1e-6)
    assert history[1]["learning_rate"] == pytest.approx(parent_config.learning_rate / 10, rel=1e-6)  # 10× lower
    assert (status["first_epoch"], status["epochs"], status["epochs_done"]) == (2, 2, 2)
    assert child.split().test == trained_run.split().test
    assert child.split().train == trained_run.split().train
    # Layers [50, …) of the base train now, BatchNorm gamma and beta included.
    assert status["trainable_params"] == count_params("MobileNetV2", 3, 50).trainable
    assert status["trainable_params"] > count_params("MobileNetV2", 3, None).trainable
    assert child.model_path.is_file()
    assert child.evaluation()["images"] == 18
    assert trained_run.history() == [history[0]]  # the parent run is left as it was
