"""tlcore.inference.batch: a folder or a zip of images → one row per image, with progress; unsafe zips are refused."""

import csv
import io
import zipfile

import pytest

from tlcore.inference.batch import (
    BatchInputError,
    batch_predict_task,
    folder_sources,
    rows_to_csv,
    unsafe_entry,
    zip_image_names,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


def _zip(path, entries: dict[str, bytes]):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize("name, unsafe", [("a/b.png", False), ("b.png", False), ("../b.png", True),
                                          ("a/../../b.png", True), ("/etc/b.png", True), ("C:\\b.png", True),
                                          ("a\\..\\b.png", True), ("x..y.png", False)])
def test_unsafe_entries_are_recognised(name, unsafe):
    assert unsafe_entry(name) is unsafe


def test_a_zip_with_a_parent_or_absolute_entry_is_refused_whole(tmp_path):
    path = _zip(tmp_path / "photos.zip", {"ok.png": b"x", "../../evil.png": b"x", "/abs.png": b"x"})

    with pytest.raises(BatchInputError, match=r"^photos.zip was refused: it holds entries with absolute paths or "
                                              r"'\.\.' \(\.\./\.\./evil.png, /abs.png\)\. Nothing was read\.$"):
        zip_image_names(path)


def test_zip_and_folder_listings_keep_images_only(tmp_path, trained_run, studio_dirs):
    path = _zip(tmp_path / "photos.zip", {"b/2.png": b"x", "a/1.jpg": b"x", "notes.txt": b"x",
                                          "__MACOSX/a/._1.jpg": b"x", "dir/": b""})
    (studio_dirs.data_root / "tiny3" / "0" / "readme.txt").write_text("not an image")

    assert zip_image_names(path) == ["a/1.jpg", "b/2.png"]
    sources = folder_sources("tiny3")
    first_zero = sorted((studio_dirs.data_root / "tiny3" / "0").glob("*.png"))[0]
    assert len(sources) == 120 and sources[0] == (f"0/{first_zero.name}", first_zero)
    (tmp_path / "notes.zip").write_text("shopping list")
    with pytest.raises(BatchInputError, match="notes.zip is not a readable zip file"):
        zip_image_names(tmp_path / "notes.zip")
    with pytest.raises(BatchInputError, match="'tiny3/0/readme.txt' is not a folder under the data root"):
        folder_sources("tiny3/0/readme.txt")


def test_a_zip_is_predicted_row_by_row_with_progress(tmp_path, trained_run, studio_dirs):
    digit = sorted((studio_dirs.data_root / "tiny3" / "2").glob("*.png"))[0].read_bytes()
    path = _zip(tmp_path / "photos.zip", {"x/two.png": digit, "broken.png": b"not an image", "again.png": digit})
    progress = []

    result = batch_predict_task({"model": {"run": trained_run.id}, "zip": str(path), "top_k": 2},
                                lambda fraction, message: progress.append((fraction, message)))

    assert (result["source"], result["images"], result["errors"]) == ("photos.zip", 3, 1)
    rows = result["rows"]
    assert [row["image"] for row in rows] == ["again.png", "broken.png", "x/two.png"]
    assert rows[1]["predicted"] is None and rows[1]["error"].startswith("broken.png is not a usable image")
    assert rows[0]["predicted"] == rows[2]["predicted"] and rows[0]["probability"] == rows[2]["probability"]
    assert rows[0]["top_k"].count(";") == 1  # two classes listed
    assert progress[-1] == (1.0, "3/3 images")
    table = list(csv.DictReader(io.StringIO(rows_to_csv(rows))))
    assert [row["image"] for row in table] == ["again.png", "broken.png", "x/two.png"]
    assert table[0]["predicted"] == rows[0]["predicted"] and table[1]["error"] == rows[1]["error"]


def test_a_folder_is_predicted_like_single_images(trained_run, studio_dirs):
    from tlcore.inference.predictor import Predictor

    result = batch_predict_task({"model": {"run": trained_run.id}, "folder": "tiny3/1"}, lambda f, m: None)

    assert result["images"] == 40 and result["errors"] == 0
    first = result["rows"][0]
    path = studio_dirs.data_root / "tiny3" / "1" / first["image"]
    single = Predictor.for_run(trained_run.id).predict_files([(first["image"], path)])[0]
    assert (first["predicted"], first["probability"]) == (single.top[0][0], pytest.approx(single.top[0][1]))
