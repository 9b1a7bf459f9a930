"""Predict page, batch section (issue 13): a hostile zip is refused with the names before any task starts, a full disk
says so and keeps nothing, and nested archives are named. No model is loaded: nothing here predicts."""

import io
import zipfile

import pytest
from page_helpers import by_label, make_run, texts, uploads_held

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
    import tlcore.storage.uploads

    fill_disk(monkeypatch, tlcore.storage.atomic, room=10)
    fill_disk(monkeypatch, tlcore.storage.uploads, room=10)  # the upload is streamed by uploads' own writer

    at = _upload(batch_page, _zip([("a.png", PNG)]))

    assert texts(at.error) == ["Disk full: the uploaded zip could not be saved (nothing was half-written). Free some "
                               "space on the server and try again."]
    assert at.button(key="batch_go").disabled
    assert list((studio.home / "cache" / "uploads").iterdir()) == []


def test_archives_inside_the_zip_are_named_as_not_opened(batch_page):
    at = _upload(batch_page, _zip([("a.png", PNG), ("b.png", PNG[::-1]), ("more/inner.zip", _zip([("c.png", PNG)]))]))

    assert "2 images in photos.zip. Not opened: 1 archive(s) inside it (`more/inner.zip`)." in texts(at.caption)
    assert not at.button(key="batch_go").disabled


def test_a_stored_zip_is_dropped_from_the_session_and_from_streamlits_memory(batch_page, studio, monkeypatch):
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager

    removed = []
    real_remove = MemoryUploadedFileManager.remove_file
    monkeypatch.setattr(MemoryUploadedFileManager, "remove_file",
                        lambda self, session_id, file_id: (removed.append(file_id), real_remove(self, session_id,
                                                                                                file_id))[1])
    data = _zip([("a.png", PNG), ("b.png", PNG[::-1])])

    at = _upload(batch_page, data)

    assert "2 images in photos.zip." in texts(at.caption)
    assert not at.button(key="batch_go").disabled  # stored: ready to predict
    kept = list((studio.home / "cache" / "uploads").glob("*.zip"))
    assert len(kept) == 1 and kept[0].read_bytes() == data
    assert len(removed) == 1  # Streamlit's in-memory copy of the bytes is let go
    assert uploads_held(at) == []
    assert not any(uploader.label == "Zip of images" for uploader in at.file_uploader)

    at.run()  # a later rerun holds nothing either, and still knows the stored zip
    assert uploads_held(at) == [] and "2 images in photos.zip." in texts(at.caption)

    at.button(key="batch_zip__another").click().run()  # another zip: an empty uploader again
    assert by_label(at.file_uploader, "Zip of images").value is None
    assert at.button(key="batch_go").disabled


def test_a_refused_zip_is_dropped_too_and_its_message_stays(batch_page):
    at = _upload(batch_page, _zip([("Cat.png", PNG), ("cat.png", PNG)]))

    assert len(at.error) == 1 and at.error[0].value.startswith("photos.zip was refused: names in the zip collide")
    assert uploads_held(at) == []
    assert by_label(at.file_uploader, "Zip of images").value is None
