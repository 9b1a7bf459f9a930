"""tlcore.evaluation.reject: the threshold reaches the user's target on validation and answers as much as it can."""

import numpy as np
import pytest

from tlcore.evaluation.reject import accuracy_lower_bound, answered_at, choose_threshold, coverage_curve

CONFIDENCE = [0.99, 0.95, 0.9, 0.8, 0.7, 0.6]
CORRECT = [True, True, True, False, True, False]


@pytest.mark.parametrize("target, threshold, answered, accuracy", [
    (1.0, 0.85, 3, 1.0),      # the three most confident are right; the fourth is the first mistake
    (0.75, 0.65, 5, 0.8),     # 4 of the top 5 right
    (0.5, 0.0, 6, 4 / 6),     # every image answered: nothing to refuse
])
def test_the_lowest_threshold_reaching_the_target(target, threshold, answered, accuracy):
    """The plain rule (level=None: validation accuracy ≥ target), which the bound makes stricter."""
    chosen = choose_threshold(CONFIDENCE, CORRECT, target, level=None)

    assert chosen["threshold"] == pytest.approx(threshold)
    assert chosen["met"] is True
    assert (chosen["answered"], chosen["coverage"]) == (answered, pytest.approx(answered / 6))
    assert chosen["accuracy"] == pytest.approx(accuracy)
    assert answered_at(CONFIDENCE, CORRECT, chosen["threshold"])["accuracy"] == pytest.approx(accuracy)


def test_equal_confidences_are_answered_or_refused_together():
    """A cut between two images of confidence 0.9 cannot exist: 100 % is out of reach, the best is answering all."""
    chosen = choose_threshold([0.9, 0.9, 0.8], [True, False, True], 1.0, level=None)

    assert chosen["met"] is False
    assert chosen["threshold"] == 0.0 and chosen["answered"] == 3
    assert chosen["accuracy"] == pytest.approx(2 / 3)


def test_an_unreachable_target_returns_the_best_accuracy_and_says_so():
    chosen = choose_threshold([0.9, 0.8, 0.7], [False, True, False], 0.95, level=None)

    assert chosen["met"] is False
    assert chosen["accuracy"] == pytest.approx(0.5) and chosen["answered"] == 2
    assert chosen["threshold"] == pytest.approx(0.75)


@pytest.mark.parametrize("level", [None, 0.95])
@pytest.mark.parametrize("seed", range(5))
def test_on_random_validation_sets_the_target_is_met_with_the_most_answers(seed, level):
    rng = np.random.default_rng(seed)
    confidence = rng.random(300).round(2)  # rounded: many ties
    correct = rng.random(300) < confidence  # more confident, more often right
    for target in (0.6, 0.8, 0.9, 0.95):
        chosen = choose_threshold(confidence, correct, target, level=level)
        if not chosen["met"]:
            continue
        reached = answered_at(confidence, correct, chosen["threshold"])
        assert reached["accuracy"] >= chosen["lower_bound"] >= target
        assert reached["answered"] == chosen["answered"] == chosen["supported_by"]
        # no lower threshold (more answers) supports the target
        lower = [point for point in coverage_curve(confidence, correct) if point["answered"] > chosen["answered"]]
        if level is None:
            assert all(point["accuracy"] < target for point in lower)
        else:
            assert all(accuracy_lower_bound(round(point["accuracy"] * point["answered"]), point["answered"], level)
                       < target for point in lower)


def test_the_curve_has_one_point_per_distinct_confidence():
    curve = coverage_curve([0.9, 0.9, 0.8, 0.5], [True, False, True, True])

    assert [(p["threshold"], p["answered"], p["coverage"]) for p in curve] == [(0.9, 2, 0.5), (0.8, 3, 0.75),
                                                                              (0.5, 4, 1.0)]
    assert [p["accuracy"] for p in curve] == pytest.approx([0.5, 2 / 3, 0.75])


def test_no_images_no_threshold_and_targets_outside_zero_one_are_refused():
    assert choose_threshold([], [], 0.9)["threshold"] is None
    assert answered_at([], [], 0.5) == {"images": 0, "answered": 0, "coverage": 0.0, "accuracy": None}
    for target in (0.0, 1.5):
        with pytest.raises(ValueError, match="share between 0 and 1"):
            choose_threshold(CONFIDENCE, CORRECT, target)
