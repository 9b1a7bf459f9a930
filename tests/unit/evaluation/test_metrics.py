"""tlcore.evaluation.metrics: the report's numbers are scikit-learn's, and a run is re-evaluated on its stored test split."""

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    log_loss,
    precision_recall_fscore_support,
    top_k_accuracy_score,
)

from tlcore.evaluation.metrics import (
    classification_report,
    is_complete,
    load_predictions,
    metrics_summary,
    store_evaluation,
    top_k_accuracy,
    top_k_of,
)
from tlcore.inference.predictor import probabilities_2d

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


def test_top_k_accuracy_equals_scikit_learn(report):
    assert report["top_k_accuracy"] == {"2": pytest.approx(top_k_accuracy_score(Y_TRUE, PROBABILITIES, k=2))}
    assert top_k_accuracy(Y_TRUE, PROBABILITIES, 1) == pytest.approx(0.6) == report["accuracy"]
    assert top_k_accuracy(Y_TRUE, PROBABILITIES, 3) == 1.0  # k = all classes


def test_top_k_is_stored_for_k_2_to_5_below_the_class_count():
    rng = np.random.default_rng(0)
    y_true, probabilities = rng.integers(0, 10, 50), rng.dirichlet(np.ones(10), 50)

    report = classification_report(y_true, probabilities, [str(i) for i in range(10)])

    assert list(report["top_k_accuracy"]) == ["2", "3", "4", "5"]
    for k in (2, 3, 4, 5):
        assert report["top_k_accuracy"][str(k)] == pytest.approx(top_k_accuracy_score(y_true, probabilities, k=k))
    assert classification_report(np.array([0, 1]), np.array([[.7, .3], [.4, .6]]), ["a", "b"])["top_k_accuracy"] == {}


def test_calibration_is_stored_with_the_report(report):
    assert report["calibration"]["n_bins"] == 10
    assert report["calibration"]["ece"] == pytest.approx(metrics_summary(report)["ece"])
    assert sum(row["images"] for row in report["calibration"]["bins"]) == 10


def test_stored_predictions_give_the_same_metrics_as_scikit_learn(studio_dirs, report):
    from tlcore.config.training import TrainConfig
    from tlcore.runs.folders import create_run

    run = create_run(TrainConfig(dataset="pets"))
    assert not is_complete(run)
    store_evaluation(run, report, PROBABILITIES)

    predictions = load_predictions(run)
    assert is_complete(run)
    assert predictions["file"].tolist() == report["files"]
    assert predictions["true"].tolist() == [CLASSES[i] for i in Y_TRUE]
    assert predictions["predicted"].tolist() == [CLASSES[i] for i in PROBABILITIES.argmax(axis=1)]
    assert predictions["loss"].mean() == pytest.approx(log_loss(Y_TRUE, PROBABILITIES), rel=1e-5)
    for k in (1, 2):
        assert top_k_of(predictions, CLASSES, k) == pytest.approx(top_k_accuracy_score(Y_TRUE, PROBABILITIES, k=k))
    assert top_k_of(predictions, CLASSES, 3) == 1.0
    assert (predictions["true"] == predictions["predicted"]).mean() == pytest.approx(accuracy_score(
        Y_TRUE, PROBABILITIES.argmax(axis=1)))


def test_class_names_that_look_like_numbers_stay_text(studio_dirs):
    from tlcore.config.training import TrainConfig
    from tlcore.runs.folders import create_run

    run = create_run(TrainConfig(dataset="digits"))
    names = ["0", "1", "NA"]
    probabilities = np.array([[.8, .1, .1], [.1, .1, .8]])
    store_evaluation(run, classification_report(np.array([0, 2]), probabilities, names, files=["a", "b"]),
                     probabilities)

    predictions = load_predictions(run)
    assert predictions["true"].tolist() == ["0", "NA"] and top_k_of(predictions, names, 1) == 1.0


# --- on a trained run ----------------------------------------------------------------------------------------------
def test_training_stores_predictions_and_the_evaluate_task_rebuilds_them(trained_run):
    """An older run (no predictions file, report without calibration) is evaluated again by the "evaluate" task."""
    from tlcore.jobs.tasks import create_task, run_task, task_result

    stored = trained_run.evaluation()
    assert is_complete(trained_run)  # training itself stored everything
    assert load_predictions(trained_run)["file"].tolist() == [path for path, _ in trained_run.split().test]
    (trained_run.path / "eval" / "test.json").unlink()
    (trained_run.path / "eval" / "test_predictions.csv").unlink()

    task = create_task("evaluate", {"run": trained_run.id})
    assert run_task(task) == {"cancelled": False}

    report = trained_run.evaluation()
    assert task_result(task) == {"run": trained_run.id, "split": "test", "accuracy": report["accuracy"]}
    assert report["accuracy"] == pytest.approx(trained_run.status()["test_accuracy"], abs=1e-9)
    assert report["confusion_matrix"] == stored["confusion_matrix"]
    assert report["images"] == len(trained_run.split().test) == 18  # 15% of 3 × 40
    assert report["files"] == [path for path, _ in trained_run.split().test]
    predictions = load_predictions(trained_run)
    assert len(predictions) == 18 and is_complete(trained_run)
    assert predictions["predicted"].tolist() == [report["class_names"][i] for i in report["y_pred"]]


def test_evaluate_run_without_a_model_says_so(studio_dirs):
    from tlcore.config.training import TrainConfig
    from tlcore.evaluation.metrics import evaluate_run
    from tlcore.runs.folders import create_run

    run = create_run(TrainConfig(dataset="pets"))

    with pytest.raises(ValueError, match=rf"^Run {run.id} has no trained model to evaluate yet \(state: queued\)\.$"):
        evaluate_run(run.id)


def test_the_evaluate_task_reports_every_batch_of_images(trained_run, monkeypatch):
    """18 test images in batches of 4: the bar moves 6 times between loading the model and done, never back."""
    from tlcore.evaluation import metrics
    from tlcore.jobs.tasks import create_task, run_task

    monkeypatch.setattr(metrics, "EVALUATION_BATCH", 4)
    reported = []
    task = create_task("evaluate", {"run": trained_run.id})
    monkeypatch.setattr(type(task), "update_status", lambda self, **fields: reported.append(fields))

    assert run_task(task) == {"cancelled": False}

    fractions = [fields["progress"] for fields in reported]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions[1:-1] == pytest.approx([0.1 + 0.9 * done / 18 for done in (0, 4, 8, 12, 16, 18)], abs=1e-4)
    assert reported[3]["phase"] == f"evaluating {trained_run.id}: 8/18 images"


def test_evaluating_batch_by_batch_gives_one_predict_calls_probabilities_in_file_order(tiny_dataset, studio_dirs):
    """A model whose outputs differ image by image (mean brightness → softmax), so a batch out of order would show."""
    import keras

    from tlcore.datasets.pipeline import load_arrays
    from tlcore.datasets.scan import scan_folder
    from tlcore.evaluation.metrics import evaluate_model

    scan = scan_folder(tiny_dataset("bright", classes=("0", "1", "8"), per_class=7))
    images, _ = load_arrays(scan.root, scan.files, 32)
    brightness, slope = images.mean() / 255, 50.0  # logits ±slope × (an image's brightness − the mean)
    inputs = keras.Input((32, 32, 3))
    pooled = keras.layers.GlobalAveragePooling2D()(keras.layers.Rescaling(1 / 255)(inputs))
    outputs = keras.layers.Dense(3, activation="softmax", kernel_initializer=keras.initializers.Constant(
        np.array([[slope, 0.0, -slope]] * 3) / 3), bias_initializer=keras.initializers.Constant(
        [-slope * brightness, 0.0, slope * brightness]))(pooled)
    model = keras.Model(inputs, outputs)
    done = []

    report = evaluate_model(model, scan.root, scan.files, scan.class_names, 32, batch_size=5,
                            progress=lambda images, total: done.append((images, total)))

    expected = probabilities_2d(model.predict(images, verbose=0))
    assert np.ptp(expected, axis=0).max() > 0.01  # the images do get different outputs
    assert done == [(0, 21), (5, 21), (10, 21), (15, 21), (20, 21), (21, 21)]
    assert report["y_pred"] == expected.argmax(axis=1).tolist()
    assert report["confidence"] == pytest.approx(expected.max(axis=1), abs=1e-6)
    assert report["files"] == [path for path, _ in scan.files]
