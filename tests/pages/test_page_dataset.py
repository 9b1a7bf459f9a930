"""Dataset page: the built-in sample by default, a folder typed by the user, and every way a folder can be refused."""

import io

import pandas as pd
from PIL import Image

from page_helpers import by_label, metric_value, texts

FOLDER_SOURCE = "Folder on this server"


def _png(shade: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (12, 12), (shade, shade, shade)).save(buffer, format="PNG")
    return buffer.getvalue()


def _make_folder(data_root, name: str, classes: dict[str, int]):
    for class_name, count in classes.items():
        folder = data_root / name / class_name
        folder.mkdir(parents=True)
        for index in range(count):
            (folder / f"{class_name}_{index:02d}.png").write_bytes(_png(20 * index))
    return data_root / name


def _type_folder(at, folder: str):
    by_label(at.radio, "Source").set_value(FOLDER_SOURCE).run()
    assert not at.exception
    by_label(at.text_input, "Folder (under the data root)").input(folder).run()
    assert not at.exception
    return at


def test_builtin_sample_by_default(open_page):
    at = open_page("pages/dataset.py")

    assert by_label(at.radio, "Source").value.startswith("Built-in")
    assert metric_value(at, "Images") == "1,797"
    assert metric_value(at, "Classes") == "10"
    assert not at.error and not at.warning
    # Sample thumbnails: one image row per class, captioned with the class name.
    assert [image.captions[0] for image in at.image] == [str(digit) for digit in range(10)]
    assert all(len(image.value) == 8 for image in at.image)
    # The split table covers every image exactly once.
    split_table: pd.DataFrame = at.dataframe[-1].value
    assert set(split_table.columns) == {"train", "val", "test"}
    assert len(split_table) == 10
    assert int(split_table.to_numpy().sum()) == 1797


def test_split_sliders_change_the_split(open_page):
    at = open_page("pages/dataset.py")
    before = at.dataframe[-1].value.sum()

    by_label(at.slider, "Test share").set_value(0.0).run()

    after = at.dataframe[-1].value.sum()
    assert after["test"] == 0 and before["test"] > 0
    assert int(after.sum()) == 1797
    assert at.session_state["split_config"].test_fraction == 0.0


def test_moving_a_split_slider_twice_keeps_the_last_value(open_page):
    # Regression: unkeyed split widgets took the saved split as their default, so every second move was dropped.
    at = open_page("pages/dataset.py")
    for share in (0.2, 0.25, 0.3):
        by_label(at.slider, "Validation share").set_value(share).run()
        assert by_label(at.slider, "Validation share").value == share
        assert at.session_state["split_config"].val_fraction == share


def test_split_settings_survive_a_visit_to_another_page(open_page):
    at = open_page("pages/dataset.py")
    by_label(at.slider, "Validation share").set_value(0.25).run()
    by_label(at.number_input, "Seed").set_value(7).run()

    at.switch_page("pages/train.py").run()
    at.switch_page("pages/dataset.py").run()

    assert not at.exception
    assert by_label(at.slider, "Validation share").value == 0.25
    assert by_label(at.number_input, "Seed").value == 7


def test_folder_outside_the_data_root_is_refused(open_page):
    at = _type_folder(open_page("pages/dataset.py"), "../../etc")

    assert any("outside the data root" in text for text in texts(at.error))
    assert not at.metric  # nothing of /etc is listed


def test_folder_with_a_single_class_is_refused(open_page, studio):
    _make_folder(studio.data_root, "one-class", {"cats": 5})

    at = _type_folder(open_page("pages/dataset.py"), "one-class")

    assert any("at least two class" in text for text in texts(at.error))
    assert not at.metric


def test_user_folder_with_a_corrupt_image_lists_it(open_page, studio):
    root = _make_folder(studio.data_root, "pets", {"cats": 10, "dogs": 10})
    (root / "dogs" / "broken.png").write_bytes(b"this is not a PNG")
    (root / "cats" / "notes.txt").write_text("not an image name: skipped, not broken")

    at = _type_folder(open_page("pages/dataset.py"), "pets")

    assert not at.error
    assert metric_value(at, "Images") == "21"
    assert metric_value(at, "Classes") == "2"
    assert any("cats/notes.txt" in text for text in texts(at.caption))
    assert any(text.startswith("1 file(s) cannot be read") for text in texts(at.warning))
    bad_table: pd.DataFrame = at.dataframe[0].value
    assert bad_table["path"].tolist() == ["dogs/broken.png"]
    assert "not an image" in bad_table["reason"][0]
    # The broken file is left out of the split and of the samples.
    assert int(at.dataframe[-1].value.to_numpy().sum()) == 20
    assert all("broken" not in caption for image in at.image for caption in image.captions)
    # The choice is remembered in the URL, so a reload keeps it.
    assert at.query_params["dataset"] == "pets"


def test_switching_back_to_the_sample_after_a_folder(open_page, studio):
    _make_folder(studio.data_root, "pets", {"cats": 10, "dogs": 10})
    at = _type_folder(open_page("pages/dataset.py"), "pets")
    assert metric_value(at, "Images") == "20"

    by_label(at.radio, "Source").set_value("Built-in sample: handwritten digits").run()

    assert not at.exception and not at.error
    assert metric_value(at, "Images") == "1,797"
    assert at.query_params["dataset"] == "sample-digits"
    assert at.session_state["dataset"] == "sample-digits"


def test_typing_a_second_folder_replaces_the_first(open_page, studio):
    # Regression: the unkeyed text input took the current dataset as its default, so the next folder typed was lost.
    _make_folder(studio.data_root, "pets", {"cats": 10, "dogs": 10})
    _make_folder(studio.data_root, "birds", {"owls": 6, "gulls": 6, "crows": 6})
    at = _type_folder(open_page("pages/dataset.py"), "pets")

    by_label(at.text_input, "Folder (under the data root)").input("birds").run()

    assert metric_value(at, "Classes") == "3"
    assert at.query_params["dataset"] == "birds"
