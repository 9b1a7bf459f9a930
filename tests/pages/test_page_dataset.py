"""Dataset page: the built-in sample by default, a folder typed by the user, and every way a folder can be refused."""

import io
import os
import re
import sys

import pandas as pd
import pytest
from page_helpers import by_label, metric_value, texts
from PIL import Image

from pages.shared.user_text import escape_markdown
from tests.disk_full import fill_disk
from tests.zips import bad_crc, encrypted, zip_bytes
from tlcore.datasets.settings import load_settings

FOLDER_SOURCE = "Folder on this server"


def _png(shade: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (12, 12), (shade, shade, shade)).save(buffer, format="PNG")
    return buffer.getvalue()


def _make_folder(data_root, name: str, classes: dict[str, int]):
    for position, (class_name, count) in enumerate(classes.items()):
        folder = data_root / name / class_name
        folder.mkdir(parents=True)
        for index in range(count):  # every image different: identical ones would (rightly) be flagged as duplicates
            (folder / f"{class_name}_{index:02d}.png").write_bytes(_png((20 * index + position) % 256))
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
    assert any(text == "All 1,797 images decode." for text in texts(at.success))
    # First page of thumbnails: 24 images captioned "class · file name"; then the selected image shown large.
    grid = at.image[0]
    assert len(grid.value) == 24 and grid.captions[0] == "0 · digit_0000.png"
    assert any(text.startswith("**digit_0000.png** · 8×8 px") and text.endswith("stored as L")
               for text in texts(at.caption))
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
    assert load_settings("sample-digits").split.test_fraction == 0.0  # stored with the dataset


def test_moving_a_split_slider_twice_keeps_the_last_value(open_page):
    # Regression: unkeyed split widgets took the saved split as their default, so every second move was dropped.
    at = open_page("pages/dataset.py")
    for share in (0.2, 0.25, 0.3):
        by_label(at.slider, "Validation share").set_value(share).run()
        assert by_label(at.slider, "Validation share").value == share
        assert load_settings("sample-digits").split.val_fraction == share


def test_split_settings_survive_a_visit_to_another_page(open_page):
    at = open_page("pages/dataset.py")
    by_label(at.slider, "Validation share").set_value(0.25).run()
    by_label(at.number_input, "Seed").set_value(7).run()

    at.switch_page("pages/train.py").run()
    at.switch_page("pages/dataset.py").run()

    assert not at.exception
    assert by_label(at.slider, "Validation share").value == 0.25
    assert by_label(at.number_input, "Seed").value == 7


def test_split_and_augmentation_stored_with_the_dataset_are_used_by_a_new_session_and_by_training(open_page):
    from tlcore.runs.folders import get_run

    at = open_page("pages/dataset.py")
    by_label(at.slider, "Validation share").set_value(0.3).run()
    by_label(at.number_input, "Seed").set_value(11).run()
    by_label(at.toggle, "Use augmentation when training on this dataset").set_value(True).run()
    by_label(at.slider, "RandomCrop", prefix=True).set_value(0.2).run()
    by_label(at.selectbox, "RandomFlip").set_value("vertical").run()

    fresh = open_page("pages/dataset.py")  # another browser tab: no session state shared
    train = open_page("pages/train.py")
    toggle = by_label(train.toggle, "Data augmentation", prefix=True)
    by_label(train.radio, "Starting weights").set_value("random").run()
    by_label(train.button, "Start training").click().run()

    assert by_label(fresh.slider, "Validation share").value == 0.3
    assert by_label(fresh.slider, "RandomCrop", prefix=True).value == 0.2
    assert toggle.value is True and "crop 0.2" in toggle.label
    config = get_run(train.query_params["run"]).config()
    assert (config.split.val_fraction, config.split.seed) == (0.3, 11)
    assert config.augment and config.augmentation.crop == 0.2 and config.augmentation.flip == "vertical"


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
    assert any(text.startswith("1 file(s) cannot be read and will be left out of training (1 not an image)")
               for text in texts(at.warning))
    bad_table: pd.DataFrame = next(frame.value for frame in at.dataframe if "reason" in frame.value.columns)
    assert bad_table["path"].tolist() == ["dogs/broken.png"]
    assert bad_table["reason"][0] == "not an image"
    # The broken file is left out of the split and of the thumbnails.
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


# --- issue 3: pre-split folders, zip upload, TFDS offline, browsing, augmentation preview, background health ---------

def test_presplit_folder_is_used_as_is(open_page, studio):
    for split, count in (("train", 6), ("valid", 2), ("test", 3)):
        _make_folder(studio.data_root / "signs", split, {"0": count, "1": count})

    at = _type_folder(open_page("pages/dataset.py"), "signs")

    assert any("Pre-split dataset: the existing `test/`, `train/`, `valid/` folders are used as they are" in text
               for text in texts(at.info))
    assert by_label(at.slider, "Validation share").disabled and by_label(at.slider, "Test share").disabled
    table = at.dataframe[-1].value
    assert table["train"].tolist() == [6, 6] and table["val"].tolist() == [2, 2] and table["test"].tolist() == [3, 3]


def test_uploaded_zip_becomes_the_current_dataset(open_page, studio):
    at = open_page("pages/dataset.py")
    by_label(at.radio, "Source").set_value("Upload a .zip").run()
    entries = {f"flowers/{name}/{i}.png": _png(i * 20 + len(name)) for name in ("roses", "tulips") for i in range(5)}

    at.file_uploader[0].set_value(("flowers.zip", zip_bytes(entries), "application/zip")).run()

    assert not at.exception and not at.error
    assert at.query_params["dataset"] == "flowers/flowers"
    assert by_label(at.radio, "Source").value == FOLDER_SOURCE
    assert metric_value(at, "Images") == "10" and metric_value(at, "Classes") == "2"
    assert (studio.data_root / "flowers" / "flowers" / "roses" / "0.png").exists()


def test_zip_with_a_parent_path_entry_is_refused_on_the_page(open_page, studio):
    at = open_page("pages/dataset.py")
    by_label(at.radio, "Source").set_value("Upload a .zip").run()

    at.file_uploader[0].set_value(("evil.zip", zip_bytes({"../evil.png": _png(1)}), "application/zip")).run()

    assert texts(at.error) == ["Refused: the zip entry '../evil.png' points outside its folder ('..')."]
    assert not (studio.data_root / "evil").exists() and not (studio.data_root.parent / "evil.png").exists()


def test_tfds_offline_says_so_and_disables_the_download(open_page):
    at = open_page("pages/dataset.py")
    by_label(at.radio, "Source").set_value("TensorFlow Datasets").run()
    by_label(at.selectbox, "TensorFlow Datasets name").set_value("cifar10").run()

    assert any(text.startswith("This server is offline, so 'cifar10' cannot be downloaded") for text in
               texts(at.warning))
    assert by_label(at.button, "Download cifar10").disabled


def test_class_filter_pages_and_the_large_view(open_page, studio):
    _make_folder(studio.data_root, "pets", {"cats": 30, "dogs": 5})
    at = _type_folder(open_page("pages/dataset.py"), "pets")

    by_label(at.selectbox, "Class").set_value("cats").run()
    by_label(at.number_input, "Page").set_value(2).run()

    assert at.image[0].captions == [f"cats · cats_{i:02d}.png" for i in range(24, 30)]
    by_label(at.selectbox, "Look at one image").set_value("cats/cats_25.png").run()
    assert any(text.startswith("**cats_25.png** · 12×12 px") and "stored as RGB" in text for text in texts(at.caption))


def test_augmentation_preview_is_a_3x3_grid_that_rerolls(open_page):
    at = open_page("pages/dataset.py")
    assert by_label(at.button, "Preview 9 augmentations")
    by_label(at.slider, "RandomRotation", prefix=True).set_value(0.3).run()

    by_label(at.button, "Preview 9 augmentations").click().run()
    first = [image.value for image in at.image[-3:]]
    by_label(at.button, "Re-roll").click().run()

    assert not at.exception
    grid = at.image[-3:]
    assert [len(row.value) for row in grid] == [3, 3, 3]
    assert grid[0].captions[0] == "training=True · #1"
    assert [image.value for image in grid] != first


def test_a_large_folder_is_checked_by_a_background_task(open_page, studio, monkeypatch):
    import pages.dataset_parts.health as health_ui
    from tlcore.jobs import scheduler as jobs
    from tlcore.worker import run_job

    started = []
    monkeypatch.setattr(jobs, "start_worker", started.append)
    monkeypatch.setattr(health_ui, "INLINE_LIMIT", 10)
    root = _make_folder(studio.data_root, "pets", {"cats": 8, "dogs": 8})
    (root / "dogs" / "empty.png").write_bytes(b"")
    at = _type_folder(open_page("pages/dataset.py"), "pets")
    assert any("the check runs in the background" in text for text in texts(at.info))

    by_label(at.button, "Check all 17 images").click().run()
    assert len(started) == 1 and started[0].status()["kind"] == "health"
    assert run_job(started[0], wait=False) == "finished"
    at.run()

    assert any(text.startswith("1 file(s) cannot be read and will be left out of training (1 zero bytes)")
               for text in texts(at.warning))
    assert int(at.dataframe[-1].value.to_numpy().sum()) == 16


# --- issue 13: bad input and hostile uploads --------------------------------------------------------------------------
# Each input gets a clear message on the page, no traceback (open_page and every run check `at.exception`), no server
# path, and nothing outside the data root read or nothing lost.

_opened: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    if _opened is not None and event in ("open", "os.scandir") and args and \
            isinstance(args[0], (str, bytes, os.PathLike)):
        _opened.append(os.path.realpath(os.fsdecode(args[0])))


sys.addaudithook(_audit)  # records only while a test sets `_opened`


def _no_server_path(at, studio) -> bool:
    """No message names a folder of the server (the Folder source's caption shows the data root on purpose)."""
    shown = texts(at.error) + texts(at.warning) + texts(at.info) + [str(toast.value) for toast in at.toast]
    return not any(str(studio.home.parent) in text for text in shown)


@pytest.mark.parametrize("name, says", [
    ("pets\0/../../etc", "is not a usable folder name: it holds a NUL byte"),
    ("d" * 5000, "is not a usable folder name: it is too long"),
], ids=["nul-byte", "5000-characters"])
def test_a_dataset_url_parameter_no_folder_can_have_gets_a_message(open_page, studio, name, says):
    at = open_page("pages/dataset.py", query_params={"dataset": name})

    assert len(at.error) == 1 and says in at.error[0].value
    assert len(at.error[0].value) < 400 and _no_server_path(at, studio)
    assert not at.metric  # nothing listed
    by_label(at.text_input, "Folder (under the data root)").input("sample-digits").run()  # the user can move on
    assert not at.exception and metric_value(at, "Images") == "1,797"


@pytest.mark.parametrize("name", ["[click me](https://evil.example/steal)", "![tracker](https://evil.example/x.png)",
                                  "www.evil.example", "**bold** :red[alarm] :material/home:"],
                         ids=["link", "image", "bare-url", "emphasis-and-directives"])
def test_a_dataset_url_parameter_is_never_rendered_as_markdown(open_page, name):
    dataset_page = open_page("pages/dataset.py", query_params={"dataset": name})
    home = open_page("pages/home.py", query_params={"dataset": name})
    train = open_page("pages/train.py", query_params={"dataset": name})

    error = dataset_page.error[0].value
    assert error == escape_markdown(f"'{name}' is not a folder under the data root.")
    assert not re.search(r"(?<!\\)[\[\]*]|(?<!\\):(?=\S)|www\.", error)  # no link, image, emphasis, directive
    assert any(f"**Current dataset:** `{name}`" in text for text in texts(home.markdown))  # a code span: verbatim
    assert train.error[0].value == error


_CAT, _DOG = _png(10), _png(200)
_LONG = "pets/cats/" + "a" * 300 + ".png"
HOSTILE_ZIPS = {
    "file-folder-clash": (zip_bytes([("pets/cats", _CAT), ("pets/cats/1.png", _CAT), ("pets/dogs/1.png", _DOG)]),
                          "Refused: names in the zip collide once unpacked: 'pets/cats' is both a file and a folder. "
                          "Rename them so each file and folder has a name of its own, and zip again."),
    "300-character-name": (zip_bytes([(_LONG, _CAT), ("pets/dogs/1.png", _DOG)]),
                           f"Refused: the zip entry '{_LONG[:60]}…' (314 characters) has a name of 304 bytes; file "
                           "systems allow 255. Shorten it and zip again."),
    "encrypted": (encrypted(zip_bytes([("pets/cats/1.png", _CAT), ("pets/dogs/1.png", _DOG)])),
                  "Refused: 'pets/cats/1.png', 'pets/dogs/1.png' are encrypted (password-protected); zip the images "
                  "again without a password."),
    "bad-crc": (bad_crc([("pets/cats/1.png", _CAT), ("pets/dogs/1.png", _DOG)]),
                "Refused: the zip entry 'pets/dogs/1.png' is damaged (its CRC checksum does not match its data); "
                "nothing was unpacked."),
    "exact-duplicates": (zip_bytes([("pets/cats/1.png", _CAT), ("pets/cats/1.png", _DOG), ("pets/dogs/1.png", _DOG)]),
                         "Refused: names in the zip collide once unpacked: 'pets/cats/1.png' appears twice. Rename "
                         "them so each file and folder has a name of its own, and zip again."),
    "case-only": (zip_bytes([("pets/Cats/1.png", _CAT), ("pets/cats/2.png", _CAT), ("pets/dogs/1.png", _DOG)]),
                  "Refused: names in the zip collide once unpacked: the folders 'pets/Cats' and 'pets/cats' differ "
                  "only in upper/lower case. Rename them so each file and folder has a name of its own, and zip "
                  "again."),
    "unicode-normalisation": (
        zip_bytes([("pets/caf\u00e9/1.png", _CAT), ("pets/cafe\u0301/2.png", _CAT), ("pets/dogs/1.png", _DOG)]),
        "Refused: names in the zip collide once unpacked: the folders 'pets/caf\u00e9' and 'pets/cafe\u0301' differ "
        "only in Unicode normalisation (they look identical). Rename them so each file and folder has a name of its "
        "own, and zip again."),
    "small-entries-bomb": (zip_bytes([(f"pets/cats/{i}.bmp", b"\0" * (1 << 19)) for i in range(40)]),
                           None),
}


@pytest.mark.parametrize("case", list(HOSTILE_ZIPS))
def test_a_hostile_zip_is_refused_on_the_page_with_the_names_and_nothing_is_unpacked(open_page, studio, case):
    data, message = HOSTILE_ZIPS[case]
    at = open_page("pages/dataset.py")
    by_label(at.radio, "Source").set_value("Upload a .zip").run()

    at.file_uploader[0].set_value((f"{case}.zip", data, "application/zip")).run()

    assert not at.exception
    if message is None:
        assert len(at.error) == 1 and at.error[0].value.startswith("Refused: 'pets/cats/0.bmp' compresses")
    else:
        assert [escape_markdown(message)] == texts(at.error)
    assert sorted(path.name for path in studio.data_root.iterdir()) == ["sample-digits"]  # not even a hidden folder
    assert _no_server_path(at, studio)


def test_a_full_disk_while_unpacking_says_disk_full_and_leaves_nothing(open_page, studio, monkeypatch):
    import tlcore.storage.archive

    at = open_page("pages/dataset.py")
    by_label(at.radio, "Source").set_value("Upload a .zip").run()
    fill_disk(monkeypatch, tlcore.storage.archive, room=len(_CAT))

    at.file_uploader[0].set_value(("pets.zip", zip_bytes([("pets/cats/1.png", _CAT), ("pets/dogs/1.png", _DOG)]),
                                   "application/zip")).run()

    assert not at.exception
    assert texts(at.error) == ["Disk full: the unpacked zip could not be saved (nothing was half-written). Free some "
                               "space on the server and try again."]
    assert sorted(path.name for path in studio.data_root.iterdir()) == ["sample-digits"]


def test_a_full_disk_when_the_split_changes_says_disk_full_and_keeps_the_stored_split(open_page, monkeypatch):
    import tlcore.storage.atomic

    at = open_page("pages/dataset.py")
    by_label(at.slider, "Validation share").set_value(0.25).run()
    fill_disk(monkeypatch, tlcore.storage.atomic, room=0)

    by_label(at.slider, "Validation share").set_value(0.3).run()

    assert not at.exception
    assert any(text.startswith("Disk full: the dataset's settings could not be saved") for text in texts(at.error))
    assert load_settings("sample-digits").split.val_fraction == 0.25  # the previous settings, whole


def test_an_empty_class_folder_is_a_warning_and_the_rest_of_the_report_still_shows(open_page, studio):
    root = _make_folder(studio.data_root, "pets", {"cats": 10, "dogs": 10})
    (root / "birds").mkdir()
    (root / "dogs" / "broken.png").write_bytes(b"this is not a PNG")
    (root / "cats" / "copy.png").write_bytes((root / "cats" / "cats_00.png").read_bytes())

    at = _type_folder(open_page("pages/dataset.py"), "pets")

    assert not at.error
    assert metric_value(at, "Classes") == "2"
    assert "Left out of training: 1 class folder(s) without images (`birds`). Add images to train on them." in \
        texts(at.warning)
    assert any(text.startswith("1 file(s) cannot be read and will be left out of training (1 not an image)")
               for text in texts(at.warning))
    assert any(text.startswith("1 group(s) of byte-identical images") for text in texts(at.caption))
    assert list(at.dataframe[-1].value.index) == ["cats", "dogs"]  # the split: birds is not a class


def test_links_out_of_the_data_root_and_loops_are_listed_and_nothing_outside_is_read(open_page, studio, tmp_path):
    global _opened
    secret = tmp_path / "secret"
    (secret / "private").mkdir(parents=True)
    for index in range(3):
        (secret / "private" / f"{index}.png").write_bytes(_png(100 + index))
    root = _make_folder(studio.data_root, "pets", {"cats": 10, "dogs": 10})
    (root / "private").symlink_to(secret / "private", target_is_directory=True)
    (root / "cats" / "cute.png").symlink_to(secret / "private" / "0.png")
    (root / "dogs" / "loop.png").symlink_to(root / "dogs" / "loop.png")
    at = open_page("pages/dataset.py")

    _opened = []
    try:
        at = _type_folder(at, "pets")
        by_label(at.selectbox, "Class").set_value("cats").run()
        opened = list(_opened)
    finally:
        _opened = None

    assert not at.error and metric_value(at, "Classes") == "2" and metric_value(at, "Images") == "20"
    assert "3 entries were not read (2 link leaves the data root, 1 link loop): nothing outside the data root is " \
           "read, and loops or pipes are never followed." in texts(at.warning)
    table = next(frame.value for frame in at.dataframe if "reason" in frame.value.columns)
    assert table["path"].tolist() == ["cats/cute.png", "dogs/loop.png", "private"]
    assert not any(path.startswith(str(secret)) for path in opened)
    assert all("cute" not in caption for image in at.image for caption in image.captions)


def test_an_image_over_the_pixel_budget_is_listed_not_decoded(open_page, studio, monkeypatch):
    root = _make_folder(studio.data_root, "pets", {"cats": 10, "dogs": 10})
    Image.new("RGB", (200, 200), (1, 2, 3)).save(root / "cats" / "poster.png")
    monkeypatch.setenv("TLSTUDIO_MAX_IMAGE_PIXELS", "20000")

    at = _type_folder(open_page("pages/dataset.py"), "pets")

    assert any(text.startswith("1 file(s) cannot be read and will be left out of training (1 too many pixels)")
               for text in texts(at.warning))
    bad_table = next(frame.value for frame in at.dataframe if "reason" in frame.value.columns)
    assert bad_table["message"].tolist() == ["too many pixels to decode on this server (200×200 = 40,000 pixels; "
                                             "at most 20,000 are decoded here, the server's pixel limit)"]
