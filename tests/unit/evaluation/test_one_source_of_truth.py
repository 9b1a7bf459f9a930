"""One number per image everywhere (issue 24): Evaluate's stored probabilities rescaled with the run's temperature
equal what Predict and Demo show; a run whose answers ignore the image is flagged; the threshold's support is said."""

import numpy as np
import pandas as pd
import pytest

from tlcore.evaluation.mistakes import calibrated, top_losses
from tlcore.inference.calibrated import Confidence, scaled_probabilities
from tlcore.inference.model_card import chance_level, chance_warning


def _table(logits: np.ndarray, names: list[str], true: list[int]) -> pd.DataFrame:
    probabilities = scaled_probabilities(logits, 1.0)
    table = pd.DataFrame({"file": [f"f{i}.png" for i in range(len(true))], "true": [names[t] for t in true],
                          "predicted": [names[p] for p in probabilities.argmax(1)],
                          "confidence": probabilities.max(1),
                          "loss": -np.log(probabilities[np.arange(len(true)), true])})
    for index, name in enumerate(names):
        table[f"p:{name}"] = probabilities[:, index]
    return table


@pytest.mark.parametrize("units", [3, 1])
def test_stored_probabilities_rescaled_equal_softmax_of_logits_over_t(units):
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 4, (20, units))
    names = ["a", "b", "c"] if units == 3 else ["no", "yes"]
    true = rng.integers(0, len(names), 20).tolist()
    table = _table(logits, names, true)

    shown = calibrated(table, 2.5)

    expected = scaled_probabilities(logits, 2.5)  # what Predict and Demo compute from the logits
    assert shown[[f"p:{name}" for name in names]].to_numpy() == pytest.approx(expected, abs=1e-9)
    assert shown["confidence"].to_numpy() == pytest.approx(expected.max(1), abs=1e-9)
    assert (shown["predicted"] == table["predicted"]).all()  # the answer never changes
    worst = top_losses(shown, 3)
    assert worst[0]["probability"] == pytest.approx(expected.max(1)[int(worst[0]["file"][1:].split(".")[0])], abs=1e-9)
    assert calibrated(table, 1.0) is table


def test_a_run_that_ignores_the_image_is_flagged():
    same_answer = {"confusion_matrix": [[10, 0, 0], [10, 0, 0], [10, 0, 0]], "images": 30, "accuracy": 1 / 3,
                   "class_names": ["a", "b", "c"], "split": "test"}
    near_chance = {"confusion_matrix": [[4, 3, 3], [3, 4, 3], [3, 3, 4]], "images": 30, "accuracy": 0.4,
                   "class_names": ["a", "b", "c"], "split": "test"}
    majority = {"confusion_matrix": [[18, 0], [2, 0]], "images": 20, "accuracy": 0.9, "class_names": ["a", "b"],
                "split": "test"}
    good = {"confusion_matrix": [[9, 1, 0], [0, 10, 0], [1, 0, 9]], "images": 30, "accuracy": 28 / 30,
            "class_names": ["a", "b", "c"], "split": "test"}

    assert "got the same answer (a)" in chance_warning(same_answer)
    assert chance_level(near_chance["confusion_matrix"]) == pytest.approx(1 / 3)
    assert chance_warning({**near_chance, "accuracy": 0.35}) is not None  # within 2 points of 33.3 %
    assert chance_warning(near_chance) is None  # 40 %: 6.7 points above chance
    assert "got the same answer" in chance_warning(majority)  # 90 % right by always answering "a"
    assert chance_warning(good) is None and chance_warning(None) is None


def test_the_threshold_says_how_many_answers_support_it():
    supported = Confidence(1.4, 0.8, 0.95, supported_by=120, lower_bound=0.951, met=True, held_out_accuracy=0.962,
                           held_out_split="test")
    too_few = Confidence(1.4, 0.8, 0.95, supported_by=24, lower_bound=0.82, met=False)

    assert supported.support_note() == ("95% target, supported by 120 validation answers (test: 96.2% of the "
                                        "answers given were right)")
    assert supported.support_warning() == ""
    assert too_few.support_warning().startswith("24 validation answers are too few to support 95%")
    assert "it takes 59" in too_few.support_warning()
    assert Confidence().support_note() == "" and Confidence().support_warning() == ""
