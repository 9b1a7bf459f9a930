"""The model card follows the run's calibration (issue 24): a new target rewrites exports/model_card.* at once with the
threshold's support, and a run whose answers ignore the image carries a warning at the top."""

import json

from tlcore.evaluation.confidence import set_target_accuracy
from tlcore.inference.model_card import model_card, model_card_markdown


def test_a_new_target_rewrites_the_card_with_its_support(calibrated_run):
    folder = calibrated_run.path / "exports"

    record = set_target_accuracy(calibrated_run, 0.8)

    card = json.loads((folder / "model_card.json").read_text())
    markdown = (folder / "model_card.md").read_text()
    reject = record["reject"]
    assert card["threshold"]["target_accuracy"] == 0.8 and card["threshold"]["threshold"] == reject["threshold"]
    assert card["threshold"]["supported_by"] == reject["supported_by"]
    assert card["threshold"]["lower_bound"] == reject["lower_bound"]
    assert f"chosen for 80% accuracy on the answers given, supported by {reject['supported_by']} validation " \
           "answers" in markdown
    assert card["chance_warning"] is None and "**Warning" not in markdown


def test_a_run_that_always_gives_the_same_answer_is_flagged_in_its_card(calibrated_run):
    path = calibrated_run.path / "eval" / "test.json"
    report = json.loads(path.read_text())
    total = [sum(row) for row in report["confusion_matrix"]]
    report["confusion_matrix"] = [[count] + [0] * (len(total) - 1) for count in total]
    report["accuracy"] = total[0] / sum(total)
    path.write_text(json.dumps(report))

    card = model_card(calibrated_run)

    assert "got the same answer" in card["chance_warning"]
    assert card["limitations"][0] == card["chance_warning"]
    assert model_card_markdown(card).splitlines()[2].startswith("**Warning: Every one of the")
