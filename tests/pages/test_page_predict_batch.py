"""Predict page, batch section (issue 13): a hostile zip is refused with the names before any task starts, a full disk
says so and keeps nothing, and nested archives are named. No model is loaded: nothing here predicts."""

import io
import zipfile

import pytest
from page_helpers import by_label, make_run, texts

from pages.shared.user_text import escape_markdown
from tests.disk_full import fill_disk

CLASSES = ["ant", "bee"]


@pytest.fixture
def batch_page(open_page, studio):
    """The Predict page on a run whose model file exists (never loaded here), batch section set to a zip upload."""
    make_run(state="finished", class_names=CLASSES, model=b"never loaded by these tests")
    at = open_page("pages/predict.py")
    by_label(at.radio, "Images from").set_value("Zip upload").run()
    return at


def _zip(entries: list[tuple[str, bytes]]) -> bytes:
    import warnings

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def _upload(at, data: bytes, name: str = "photos.zip"):
    by_label(at.file_uploader, "Zip of images").set_value((name, data, "application/zip")).run()
    assert not at.exception
    return at


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.mark.parametrize("entries, message", [
    ([("Cat.png", PNG), ("cat.png", PNG)],
     "photos.zip was refused: names in the zip collide once unpacked: the files 'Cat.png' and 'cat.png' differ only "
     "in upper/lower case. Rename them so each file and folder has a name of its own, and zip again. Nothing was "
     "read."),
    ([("x/" + "n" * 300 + ".png", PNG)],
     f"photos.zip was refused: the zip entry '{('x/' + 'n' * 300)[:60]}…' (306 characters) has a name of 304 bytes; "
     "file systems allow 255. Shorten it and zip again. Nothing was read."),
    ([(f"{index}.png", b"\0" * (1 << 19)) for index in range(20)], None),
], ids=["case-collision", "300-character-name", "small-entries-bomb"])
def test_a_hostile_batch_zip_is_refused_before_any_task(batch_page, studio, entries, message):
    at = _upload(batch_page, _zip(entries))

    if message is None:
        assert len(at.error) == 1 and at.error[0].value.startswith("photos.zip was refused: '0.png' compresses")
    else:
        assert texts(at.error) == [escape_markdown(message)]
    assert at.button(key="batch_go").disabled
    assert not (studio.home / "tasks").exists() or list((studio.home / "tasks").iterdir()) == []


def test_a_full_disk_while_keeping_the_zip_says_disk_full_and_keeps_nothing(batch_page, studio, monkeypatch):
    import tlcore.storage.atomic

    fill_disk(monkeypatch, tlcore.storage.atomic, room=10)

    at = _upload(batch_page, _zip([("a.png", PNG)]))

    assert texts(at.error) == ["Disk full: the uploaded zip could not be saved (nothing was half-written). Free some "
                               "space on the server and try again."]
    assert at.button(key="batch_go").disabled
    assert list((studio.home / "cache" / "uploads").iterdir()) == []


def test_archives_inside_the_zip_are_named_as_not_opened(batch_page):
    at = _upload(batch_page, _zip([("a.png", PNG), ("b.png", PNG[::-1]), ("more/inner.zip", _zip([("c.png", PNG)]))]))

    assert "2 images in photos.zip. Not opened: 1 archive(s) inside it (`more/inner.zip`)." in texts(at.caption)
    assert not at.button(key="batch_go").disabled
