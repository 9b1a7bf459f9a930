"""Uploads are stored once and then dropped from the session (issue 24, item 8): after the Dataset page unpacks a zip
and after Predict keeps an external model, nothing in the session holds the uploaded file any more, and Streamlit's
in-memory copy of its bytes is removed. (The batch zip: tests/pages/test_page_predict_batch.py.)"""

from __future__ import annotations

import io
import zipfile

import pytest
from page_helpers import by_label, uploads_held


@pytest.fixture
def removed_from_streamlit(monkeypatch) -> list[str]:
    """The file ids Streamlit's upload manager is asked to let go of."""
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager

    removed: list[str] = []
    real_remove = MemoryUploadedFileManager.remove_file

    def remove_file(self, session_id, file_id):
        removed.append(file_id)
        return real_remove(self, session_id, file_id)

    monkeypatch.setattr(MemoryUploadedFileManager, "remove_file", remove_file)
    return removed


def _dataset_zip(digits_folder) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in ("0", "1"):
            for path in sorted((digits_folder / name).glob("*.png"))[:3]:
                archive.write(path, f"pets/{name}/{path.name}")
    return buffer.getvalue()


def test_an_unpacked_dataset_zip_is_dropped_from_the_session(open_page, studio, removed_from_streamlit):
    at = open_page("pages/dataset.py")
    by_label(at.radio, "Source").set_value("Upload a .zip").run()

    by_label(at.file_uploader, "Dataset .zip (class folders, or train/ val/ test/ folders of class folders)",
             prefix=True).set_value(("pets.zip", _dataset_zip(studio.data_root / "sample-digits"),
                                     "application/zip")).run()

    assert not at.exception
    assert at.radio(key="dataset_source").value == "Folder on this server"  # switched to the unpacked folder
    unpacked = studio.data_root / at.text_input(key="dataset_folder").value
    assert sorted(path.name for path in unpacked.iterdir()) == ["0", "1"]
    assert len(removed_from_streamlit) == 1 and uploads_held(at) == []
    at.run()
    assert uploads_held(at) == []


def test_a_kept_external_model_is_dropped_from_the_session(open_page, studio, removed_from_streamlit):
    at = open_page("pages/predict.py")
    by_label(at.radio, "Model").set_value("An external .keras file").run()

    by_label(at.file_uploader, "Model file (.keras)").set_value(("mine.keras", b"PK\x03\x04 half a file",
                                                                 "application/octet-stream"))
    by_label(at.text_input, "…or class names, comma-separated").set_value("cat, dog").run()

    assert len(at.error) == 1 and "mine.keras" in at.error[0].value  # checked from the kept file, named as uploaded
    assert len(removed_from_streamlit) == 1 and uploads_held(at) == []
    assert any(caption.value.startswith("Stored on the server: mine.keras") for caption in at.caption)
    kept = list((studio.home / "cache" / "external-models").glob("*.keras"))
    assert len(kept) == 1 and kept[0].read_bytes() == b"PK\x03\x04 half a file"


def test_a_refused_weights_file_is_dropped_and_its_message_stays(open_page, studio, removed_from_streamlit):
    at = open_page("pages/backbones.py", timeout=120)

    at.file_uploader(key="weights_upload").set_value(("mobilenet.h5", b"not an HDF5 file", "application/x-hdf5")).run()
    at.button(key="install_weights").click().run(timeout=180)

    assert not at.exception
    assert any("This file does not fit MobileNetV2" in error.value for error in at.error)
    assert len(removed_from_streamlit) == 1 and uploads_held(at) == []
    assert at.file_uploader(key="weights_upload__1").value is None  # an empty uploader for the next file
    assert not studio.keras_models.exists() or not list(studio.keras_models.glob("*.h5"))  # nothing installed
