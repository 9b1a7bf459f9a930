"""tlcore.evaluate: the report's numbers are scikit-learn's, and a run is re-evaluated on its stored test split."""

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, log_loss, precision_recall_fscore_support

from tlcore.evaluate import classification_report, probabilities_2d

CLASSES = ["cat", "dog", "fox"]
Y_TRUE = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
PROBABILITIES = np.array([
    [0.9, 0.05, 0.05], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.4, 0.1, 0.5],  # cats: 2 right, 1 → dog, 1 → fox
    [0.1, 0.8, 0.1], [0.3, 0.6, 0.1], [0.7, 0.2, 0.1],  # dogs: 2 right, 1 → cat
    [0.1, 0.1, 0.8], [0.2, 0.2, 0.6], [0.05, 0.9, 0.05],  # foxes: 2 right, 1 → dog
])


@pytest.fixture
def report():
    return classification_report(Y_TRUE, PROBABILITIES, CLASSES, files=[f"f{i}.png" for i in range(10)])


def test_accuracy_and_confusion_matrix(report):
    y_pred = PROBABILITIES.argmax(axis=1)

    assert report["accuracy"] == pytest.approx(0.6) == accuracy_score(Y_TRUE, y_pred)
    assert report["confusion_matrix"] == [[2, 1, 1], [1, 2, 0], [0, 1, 2]]
    assert report["confusion_matrix"] == confusion_matrix(Y_TRUE, y_pred).tolist()
    assert report["images"] == 10 and report["split"] == "test"


def test_per_class_precision_recall_f1_support_equal_scikit_learn(report):
    precision, recall, f1, support = precision_recall_fscore_support(Y_TRUE, PROBABILITIES.argmax(axis=1))

    assert [row["class"] for row in report["per_class"]] == CLASSES
    assert [row["precision"] for row in report["per_class"]] == pytest.approx(precision)
    assert [row["recall"] for row in report["per_class"]] == pytest.approx(recall)
    assert [row["f1"] for row in report["per_class"]] == pytest.approx(f1)
    assert [row["support"] for row in report["per_class"]] == [4, 3, 3] == support.tolist()
    assert report["per_class"][0]["precision"] == pytest.approx(2 / 3)  # cat predicted 3×, right 2×
    assert report["per_class"][0]["recall"] == pytest.approx(0.5)


def test_log_loss_equals_scikit_learn(report):
    assert report["loss"] == pytest.approx(log_loss(Y_TRUE, PROBABILITIES), rel=1e-6)


def test_per_image_lists_for_browsing_mistakes(report):
    assert report["y_true"] == Y_TRUE.tolist()
    assert report["y_pred"] == [0, 0, 1, 2, 1, 1, 0, 2, 2, 1]
    assert report["confidence"][:2] == [0.9, 0.6]
    assert report["files"][3] == "f3.png"


def test_a_class_never_predicted_scores_zero_precision_without_warning():
    import warnings

    probabilities = np.array([[0.9, 0.1, 0.0], [0.2, 0.8, 0.0], [0.6, 0.4, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = classification_report(np.array([0, 1, 2]), probabilities, CLASSES)

    assert report["per_class"][2] == {"class": "fox", "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert report["confusion_matrix"] == [[1, 0, 0], [0, 1, 0], [1, 0, 0]]


def test_sigmoid_column_becomes_two_class_probabilities():
    outputs = np.array([[0.2], [0.9], [0.5]], dtype=np.float32)

    probabilities = probabilities_2d(outputs)

    assert probabilities.shape == (3, 2)
    assert np.allclose(probabilities, [[0.8, 0.2], [0.1, 0.9], [0.5, 0.5]])
    assert np.allclose(probabilities.sum(axis=1), 1.0)


def test_softmax_outputs_pass_through_unchanged():
    assert np.array_equal(probabilities_2d(PROBABILITIES), PROBABILITIES)


def test_binary_report_from_sigmoid_outputs():
    report = classification_report(np.array([0, 1, 1, 0]), probabilities_2d(np.array([[0.1], [0.7], [0.4], [0.3]])),
                                   ["no", "yes"])

    assert report["accuracy"] == 0.75
    assert report["confusion_matrix"] == [[2, 0], [1, 1]]


# --- on a trained run ----------------------------------------------------------------------------------------------
def test_evaluate_run_reproduces_the_training_test_accuracy(trained_run):
    from tlcore.evaluate import evaluate_run

    stored = trained_run.evaluation()
    (trained_run.path / "eval" / "test.json").unlink()

    report = evaluate_run(trained_run.id)

    assert report["accuracy"] == pytest.approx(trained_run.status()["test_accuracy"], abs=1e-9)
    assert report["confusion_matrix"] == stored["confusion_matrix"]
    assert report["images"] == len(trained_run.split().test) == 18  # 15% of 3 × 40
    assert report["files"] == [path for path, _ in trained_run.split().test]
    assert trained_run.evaluation()["accuracy"] == report["accuracy"]  # written back to eval/test.json


def test_evaluate_run_without_a_model_says_so(studio_dirs):
    from tlcore.evaluate import evaluate_run
    from tlcore.config import TrainConfig
    from tlcore.runs import create_run

    run = create_run(TrainConfig(dataset="pets"))

    with pytest.raises(ValueError, match=rf"^Run {run.id} has no trained model yet \(state: queued\)\.$"):
        evaluate_run(run.id)
