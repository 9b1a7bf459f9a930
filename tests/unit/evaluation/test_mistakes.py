"""tlcore.evaluation.mistakes: a confusion cell gives exactly its images; top losses and most-confused pairs from stored rows."""

import io

import numpy as np
import pandas as pd
import pytest

from tlcore.evaluation.metrics import classification_report, predictions_csv
from tlcore.evaluation.mistakes import cell_files, most_confused_pairs, nonempty_cells, thumbnails, top_losses

CLASSES = ["cat", "dog", "fox"]
rng = np.random.default_rng(7)
Y_TRUE = rng.integers(0, 3, size=60)
PROBABILITIES = rng.dirichlet(np.ones(3), size=60)
FILES = [f"{CLASSES[t]}/img_{i:03d}.png" for i, t in enumerate(Y_TRUE)]


@pytest.fixture
def predictions() -> pd.DataFrame:
    text = predictions_csv(FILES, Y_TRUE, PROBABILITIES, CLASSES)
    return pd.read_csv(io.StringIO(text), dtype={"file": str, "true": str, "predicted": str})


def test_every_confusion_cell_returns_exactly_its_images(predictions):
    report = classification_report(Y_TRUE, PROBABILITIES, CLASSES, files=FILES)
    y_pred = PROBABILITIES.argmax(axis=1)

    for t, row in enumerate(report["confusion_matrix"]):
        for p, count in enumerate(row):
            expected = [FILES[i] for i in range(60) if Y_TRUE[i] == t and y_pred[i] == p]
            assert cell_files(predictions, CLASSES[t], CLASSES[p]) == expected
            assert len(expected) == count
    assert sum(len(cell_files(predictions, a, b)) for a in CLASSES for b in CLASSES) == 60


def test_a_hand_made_cell():
    table = pd.DataFrame({"file": ["a.png", "b.png", "c.png", "d.png"], "true": ["1", "1", "2", "1"],
                          "predicted": ["2", "1", "2", "2"]})

    assert cell_files(table, "1", "2") == ["a.png", "d.png"]
    assert cell_files(table, "2", "1") == []


def test_nonempty_cells_put_mistakes_first_largest_first():
    cells = nonempty_cells([[5, 0, 1], [3, 4, 0], [0, 0, 2]], CLASSES)

    assert [(c.true, c.predicted, c.count) for c in cells] == [
        ("dog", "cat", 3), ("cat", "fox", 1), ("cat", "cat", 5), ("dog", "dog", 4), ("fox", "fox", 2)]
    assert cells[0].label == "true dog → predicted cat (3 images, wrong)"
    assert cells[1].label == "true cat → predicted fox (1 image, wrong)"


def test_top_losses_are_the_most_confident_mistakes(predictions):
    worst = top_losses(predictions, count=5)

    y_pred = PROBABILITIES.argmax(axis=1)
    wrong = [i for i in range(60) if y_pred[i] != Y_TRUE[i]]
    by_loss = sorted(wrong, key=lambda i: -np.log(PROBABILITIES[i, Y_TRUE[i]]), reverse=True)[:5]
    assert [row["file"] for row in worst] == [FILES[i] for i in by_loss]
    first = by_loss[0]
    assert worst[0]["true"] == CLASSES[Y_TRUE[first]] and worst[0]["predicted"] == CLASSES[y_pred[first]]
    assert worst[0]["probability"] == pytest.approx(PROBABILITIES[first].max(), abs=1e-6)
    assert all(row["true"] != row["predicted"] for row in worst)


def test_most_confused_pairs():
    pairs = most_confused_pairs([[5, 0, 1], [3, 4, 0], [0, 2, 2]], CLASSES, count=2)

    assert pairs == [{"true": "dog", "predicted": "cat", "images": 3, "share_of_true_class": 3 / 7},
                     {"true": "fox", "predicted": "dog", "images": 2, "share_of_true_class": 0.5}]


def test_thumbnails_of_missing_or_escaping_files_are_none(digits, studio_dirs):
    (studio_dirs.data_root / "outside.png").write_bytes((digits / "0" / "digit_0000.png").read_bytes())

    shown = thumbnails("sample-digits", ["0/digit_0000.png", "0/gone.png", "../outside.png"], width=48)

    assert [name for name, _ in shown] == ["0/digit_0000.png", "0/gone.png", "../outside.png"]
    assert shown[0][1].size[0] == 48
    assert shown[1][1] is None and shown[2][1] is None
