"""The map tab reopens the dataset's last finished map (of the dataset, or of one run's features), never another's."""

from tlcore.curation import TASK_KIND, latest_map_task
from tlcore.jobs.tasks import create_task


def _map_task(dataset, run=None, state="finished"):
    task = create_task(TASK_KIND, {"dataset": dataset, "run": run, "method": "pca"})
    task.update_status(state=state)
    return task.id


def test_latest_finished_map_of_that_dataset_and_run():
    assert latest_map_task("mine") is None
    older = _map_task("mine")
    _map_task("other")
    of_run = _map_task("mine", run="r1")
    _map_task("mine", state="failed")
    assert latest_map_task("mine") == older
    assert latest_map_task("mine", "r1") == of_run
    assert latest_map_task("mine", "r2") is None



def test_out_of_sample_probabilities_given_for_a_run_rank_the_issues(tmp_path):
    """A run's map: the label ranking uses the probabilities of a base that did not learn the labels (by path, in the
    map's order), not a cross-validation on the run's own features; the page is told which."""
    import numpy as np

    from tlcore.curation import Embeddings, LabelIssueReport, analyse_embeddings

    rng = np.random.default_rng(0)
    paths = [f"{i % 2}/f{i}.png" for i in range(40)]
    labels = np.array([i % 2 for i in range(40)])
    embeddings = Embeddings(str(tmp_path), ["0", "1"], paths, labels, ["train"] * 40,
                            rng.normal(size=(40, 8)).astype(np.float32))
    order = list(reversed(range(40)))  # the base's own order of files
    probabilities = np.array([[0.9, 0.1] if labels[i] == 0 else [0.1, 0.9] for i in order])
    wrong = order.index(6)  # 0/f6.png looks like a 1 to the base
    probabilities[wrong] = [0.02, 0.98]
    given = LabelIssueReport(str(tmp_path), 40, [], {"the run's held-out predictions": 10,
                                                     "cross-validated logistic regression on base features": 30},
                             "MobileNetV2 32 px, random weights", [paths[i] for i in order], probabilities, ["0", "1"])
    result = analyse_embeddings(embeddings, "pca", labels_from=given)
    assert result["issues"][0]["path"] == "0/f6.png" and result["issues"][0]["suggested"] == "1"
    assert result["label_source"] == given.describe() and "held-out predictions for 10" in result["label_source"]
    assert result["points"]["issue_score"][6] == 0.98
