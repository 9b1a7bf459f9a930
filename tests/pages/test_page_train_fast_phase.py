"""Train page, issue 15: K augmented views for a frozen base with augmentation, and the note that it approximates."""

from page_helpers import by_label, texts

from tlcore.jobs import scheduler as jobs
from tlcore.runs.folders import get_run

AUGMENT = "Data augmentation"
VIEWS = "Augmented views per image (fast frozen phase; 0 = augment every epoch)"


def _speedup(caption: str) -> float:
    return float(caption.split("about ")[1].split("×")[0])


def test_views_are_offered_with_augmentation_on_a_frozen_base_and_stored(open_page, monkeypatch):
    monkeypatch.setattr(jobs, "start_worker", lambda run: None)
    at = open_page("pages/train.py")
    by_label(at.toggle, AUGMENT, prefix=True).set_value(False).run()
    assert not [w for w in at.number_input if w.label == VIEWS]  # nothing to approximate without augmentation

    by_label(at.toggle, AUGMENT, prefix=True).set_value(True).run()
    assert by_label(at.number_input, VIEWS).value == 0  # the default: augment every epoch, exact
    by_label(at.number_input, "Epochs").set_value(12).run()
    hint = next(text for text in texts(at.caption) if "Augmenting every epoch" in text)
    assert "for 12 epochs, 2 views would be about" in hint and "10 views -4 points" in hint  # the trade, measured
    by_label(at.number_input, "Epochs").set_value(10).run()
    by_label(at.number_input, VIEWS).set_value(1).run()
    one = next(text for text in texts(at.caption) if "Expected speed-up" in text)
    by_label(at.number_input, VIEWS).set_value(10).run()
    ten = next(text for text in texts(at.caption) if "Expected speed-up" in text)
    assert "for 10 epochs" in one and _speedup(one) > 5 > _speedup(ten)  # the page says what K costs
    assert "approximation of per-epoch augmentation" in one and "1 view -11, 2 views -7, 3 views -3, 5 views -4, 10 views -4 points" in one
    by_label(at.number_input, VIEWS).set_value(4).run()
    by_label(at.radio, "Starting weights").set_value("random").run()
    by_label(at.button, "Start training").click().run()

    config = get_run(at.query_params["run"]).config()
    assert (config.augment, config.augmented_views) == (True, 4)


def test_no_views_when_part_of_the_base_trains(open_page):
    at = open_page("pages/train.py")
    by_label(at.toggle, AUGMENT, prefix=True).set_value(True).run()
    by_label(at.selectbox, "Train from block").set_value("block_13").run()

    assert not [w for w in at.number_input if w.label == VIEWS]
