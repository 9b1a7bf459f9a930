"""Dataset page, "Add & label": uploads become examples of a (new) class; the queue labels with the number buttons,
skips and undoes, and each file is in the folder it should be after every step."""

import io
import os

import pytest
from page_helpers import by_label
from PIL import Image

from tlcore.labeling import UNLABELED


def _png(value: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (value, value, value)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def mine(studio):
    """A dataset of the user's own: classes 0 and 1 (4 digits each) and three images waiting in _unlabeled/."""
    root = studio.data_root / "mine"
    for name in ("0", "1"):
        (root / name).mkdir(parents=True)
        for image in sorted((studio.data_root / "sample-digits" / name).glob("*.png"))[:4]:
            os.link(image, root / name / image.name)
    (root / UNLABELED).mkdir()
    for index in range(3):
        (root / UNLABELED / f"u{index}.png").write_bytes(_png(40 * index))
    return root


def _where(root, name):
    return sorted(str(path.relative_to(root)) for path in root.glob(f"*/{name}"))


def test_number_buttons_label_skip_and_undo_move_exactly_the_shown_file(open_page, mine):
    at = open_page("pages/dataset.py", query_params={"dataset": "mine"})
    by_label(at.radio, "Order").set_value("name").run()
    assert any("u0.png" in item.value for item in at.markdown)

    by_label(at.button, "2 · 1").click().run()  # number key 2: class "1"
    assert _where(mine, "u0.png") == ["1/u0.png"]
    assert _where(mine, "u1.png") == [f"{UNLABELED}/u1.png"]

    by_label(at.button, "Skip (S)").click().run()  # u1 goes to the back: u2 is shown
    assert any("u2.png" in item.value for item in at.markdown)
    by_label(at.button, "1 · 0").click().run()
    assert _where(mine, "u2.png") == ["0/u2.png"] and _where(mine, "u1.png") == [f"{UNLABELED}/u1.png"]

    by_label(at.button, "Undo my last label (U)").click().run()
    assert _where(mine, "u2.png") == [f"{UNLABELED}/u2.png"] and _where(mine, "u0.png") == ["1/u0.png"]
    assert not at.exception


def test_uploads_are_added_to_a_new_class_and_a_bad_name_is_refused(open_page, mine):
    at = open_page("pages/dataset.py", query_params={"dataset": "mine"})
    by_label(at.selectbox, "Class to add examples to").set_value("New class…").run()
    by_label(at.text_input, "New class name").set_value("../up").run()
    by_label(at.file_uploader, "Or upload images").set_value([("a.png", _png(10), "image/png"),
                                                         ("b.png", _png(20), "image/png")]).run()
    by_label(at.button, "Add 2 image(s) to this class").click().run()
    assert any("class name" in item.value for item in at.error)
    assert not (mine.parent / "up").exists()

    by_label(at.text_input, "New class name").set_value("cats").run()
    by_label(at.button, "Add 2 image(s) to this class").click().run()
    assert len(list((mine / "cats").glob("upload_*.png"))) == 2
    assert any("Added 2 image(s)" in item.value for item in at.success)
    assert by_label(at.button, "Add 0 image(s) to this class").disabled  # the uploader is empty again: no double add


def test_margin_order_without_a_model_says_how_to_get_one(open_page, mine):
    at = open_page("pages/dataset.py", query_params={"dataset": "mine"})
    by_label(at.radio, "Order").set_value("margin").run()
    assert any("instant model" in item.value for item in at.info)


def test_a_folder_without_classes_starts_its_classes_from_examples(open_page, studio):
    (studio.data_root / "empty").mkdir()
    at = open_page("pages/dataset.py", query_params={"dataset": "empty"})
    assert any("class" in item.value for item in at.error)  # not a dataset yet: said why
    for name, shade in (("a", 10), ("b", 200)):
        by_label(at.selectbox, "Class to add examples to").set_value("New class…").run()
        by_label(at.text_input, "New class name").set_value(name).run()
        by_label(at.file_uploader, "Or upload images").set_value([(f"{name}.png", _png(shade), "image/png")]).run()
        by_label(at.button, "Add 1 image(s) to this class").click().run()
    assert sorted(p.parent.name for p in (studio.data_root / "empty").glob("*/upload_*.png")) == ["a", "b"]
    assert any(item.label == "Images" and item.value == "2" for item in at.metric)  # now a dataset of two classes


@pytest.fixture
def started(monkeypatch):
    """Tasks queued by the page, with no worker process spawned."""
    from tlcore.jobs import scheduler

    queued = []
    monkeypatch.setattr(scheduler, "start_worker", queued.append)
    return queued


def _task(folder):
    import json

    return json.loads((folder.path / "task.json").read_text())


def test_without_an_instant_model_adding_says_how_to_make_one_and_starts_nothing(open_page, mine, started):
    at = open_page("pages/dataset.py", query_params={"dataset": "mine"})
    by_label(at.file_uploader, "Or upload images").set_value([("a.png", _png(10), "image/png")]).run()
    by_label(at.button, "Add 1 image(s) to this class").click().run()
    assert any("Make the instant model (Train page)" in item.value for item in at.success)
    assert started == []


def test_adding_examples_refreshes_the_instant_model_with_its_last_settings(open_page, mine, started):
    from tests.unit.labeling.test_refresh import fake_instant_run

    from tlcore.labeling import InstantConfig

    settings = InstantConfig(dataset="mine", backbone="MobileNetV2", image_size=64, weights="random", seed=7)
    fake_instant_run(settings, 0.5, 8)
    fake_instant_run(InstantConfig(dataset="other", image_size=32, weights="random"), 0.9, 40)
    at = open_page("pages/dataset.py", query_params={"dataset": "mine"})
    by_label(at.file_uploader, "Or upload images").set_value([("a.png", _png(10), "image/png")]).run()
    by_label(at.button, "Add 1 image(s) to this class").click().run()

    assert [_task(folder)["kind"] for folder in started] == ["instant"]
    params = _task(started[0])["params"]
    assert {key: params[key] for key in settings.to_dict()} == settings.to_dict()
    assert any("refreshing" in item.value for item in at.success)
    assert not at.exception


def test_every_n_labels_refresh_the_instant_model_once(open_page, mine, started, monkeypatch):
    from tests.unit.labeling.test_refresh import fake_instant_run

    from pages.dataset_parts import labeling as labeling_part
    from tlcore.labeling import InstantConfig

    monkeypatch.setattr(labeling_part, "REFRESH_EVERY_LABELS", 2)
    fake_instant_run(InstantConfig(dataset="mine", image_size=64, weights="random"), 0.5, 8)
    at = open_page("pages/dataset.py", query_params={"dataset": "mine"})
    by_label(at.radio, "Order").set_value("name").run()
    by_label(at.button, "1 · 0").click().run()
    assert started == []  # one label: not yet
    by_label(at.button, "2 · 1").click().run()
    assert [_task(folder)["kind"] for folder in started] == ["instant"]
    assert any("2 images labeled" in item.value for item in at.success)
