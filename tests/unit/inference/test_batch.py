"""tlcore.inference.batch: a folder or a zip of images → one row per image, with progress; unsafe zips are refused."""

import csv
import io
import zipfile

import pytest

from tlcore.inference.batch import (
    BatchInputError,
    batch_predict_task,
    check_batch_zip,
    folder_sources,
    rows_to_csv,
    unsafe_entry,
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
        check_batch_zip(path)


def test_zip_and_folder_listings_keep_images_only(tmp_path, trained_run, studio_dirs):
    path = _zip(tmp_path / "photos.zip", {"b/2.png": b"x", "a/1.jpg": b"x", "notes.txt": b"x",
                                          "__MACOSX/a/._1.jpg": b"x", "dir/": b""})
    (studio_dirs.data_root / "tiny3" / "0" / "readme.txt").write_text("not an image")

    assert check_batch_zip(path).images == ["a/1.jpg", "b/2.png"]
    sources = folder_sources("tiny3")
    first_zero = sorted((studio_dirs.data_root / "tiny3" / "0").glob("*.png"))[0]
    assert len(sources) == 120 and sources[0] == (f"0/{first_zero.name}", first_zero)
    (tmp_path / "notes.zip").write_text("shopping list")
    with pytest.raises(BatchInputError, match="notes.zip is not a readable zip file"):
        check_batch_zip(tmp_path / "notes.zip")
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


# --- issue 13: the same caps as a dataset zip, streamed, damaged entries as rows, folders read safely --------------

class _CountingPredictor:
    """Stands in for a model: reads every source in 1 MiB pieces (as a decoder would) and answers one class."""

    def __init__(self):
        self.read: dict[str, int] = {}

    def predict_files(self, named_sources, top_k=3):
        from tlcore.inference.predictor import Prediction

        for name, source in named_sources:
            assert not isinstance(source, (bytes, bytearray)), f"{name} was handed over as one bytes object"
            size = 0
            while piece := source.read(1 << 20):
                size += len(piece)
            self.read[name] = size
        return [Prediction(name, [("cat", 1.0)]) for name, _ in named_sources]


@pytest.fixture
def counting_predictor(monkeypatch):
    import tlcore.inference.batch as batch_module

    predictor = _CountingPredictor()
    monkeypatch.setattr(batch_module, "predictor_for", lambda source: predictor)
    return predictor


def test_a_zip_is_streamed_entry_by_entry_never_read_whole(tmp_path, counting_predictor):
    import os
    import tracemalloc

    big = os.urandom(24 << 20)  # 24 MiB that do not compress: stored as they are
    with zipfile.ZipFile(tmp_path / "photos.zip", "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("big.png", big)
        archive.writestr("small.png", b"x" * 1000)
    del big

    tracemalloc.start()
    try:
        result = batch_predict_task({"model": {"run": "r"}, "zip": str(tmp_path / "photos.zip")}, lambda f, m: None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert counting_predictor.read == {"big.png": 24 << 20, "small.png": 1000}
    assert result["errors"] == 0
    assert peak < 8 << 20, f"{peak / 2**20:.0f} MiB held while predicting a zip with a 24 MiB entry"


def _encrypted(data: bytes) -> bytes:
    import struct

    patched = bytearray(data)
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := patched.find(signature, start)) >= 0:
            struct.pack_into("<H", patched, start + flag_offset, struct.unpack_from("<H", patched,
                                                                                    start + flag_offset)[0] | 1)
            start += 4
    return bytes(patched)


@pytest.mark.parametrize("entries, transform, says", [
    ({f"{index}.png": b"\0" * (512 << 10) for index in range(20)}, None,
     r"^photos\.zip was refused: '0\.png' compresses [\d,]+× \(a zip bomb\?\); images never compress that much\. "
     r"Nothing was read\.$"),
    ({"Cat.png": b"x", "cat.png": b"y"}, None,
     r"^photos\.zip was refused: names in the zip collide once unpacked: the files 'Cat\.png' and 'cat\.png' differ "
     r"only in upper/lower case\."),
    ({"a.png": b"x" * 100}, _encrypted,
     r"^photos\.zip was refused: 'a\.png' is encrypted \(password-protected\); zip the images again without a "
     r"password\. Nothing was read\.$"),
    ({"a/" + "n" * 300 + ".png": b"x"}, None, r"^photos\.zip was refused: the zip entry 'a/nnnn.*has a name of 304 "
     r"bytes; file systems allow 255"),
], ids=["small-entries-bomb", "case-collision", "encrypted", "300-char-name"])
def test_a_batch_zip_gets_the_same_refusals_as_a_dataset_zip(tmp_path, entries, transform, says):
    path = tmp_path / "photos.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    if transform:
        path.write_bytes(transform(path.read_bytes()))

    with pytest.raises(BatchInputError, match=says):
        check_batch_zip(path)


def test_a_damaged_entry_is_an_error_row_and_the_batch_goes_on(tmp_path, counting_predictor):
    good, bad = bytes(range(256)) * 8, bytes(range(255, -1, -1)) * 8
    with zipfile.ZipFile(tmp_path / "photos.zip", "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("a.png", good)
        archive.writestr("b.png", bad)
        archive.writestr("inner.zip", b"PK\x05\x06" + b"\0" * 18)
    data = bytearray((tmp_path / "photos.zip").read_bytes())
    data[data.index(bad) + 10] ^= 0xFF
    (tmp_path / "photos.zip").write_bytes(bytes(data))

    result = batch_predict_task({"model": {"run": "r"}, "zip": str(tmp_path / "photos.zip")}, lambda f, m: None)

    rows = {row["image"]: row for row in result["rows"]}
    assert rows["a.png"]["predicted"] == "cat" and rows["a.png"]["error"] == ""
    assert rows["b.png"]["error"] == ("b.png cannot be read from the zip: the zip entry 'b.png' is damaged (its CRC "
                                      "checksum does not match its data); nothing was unpacked.")
    assert result["errors"] == 1 and result["nested_archives"] == ["inner.zip"]


@pytest.mark.timeout(60)
def test_a_folder_never_reads_outside_the_data_root_nor_opens_a_pipe(tmp_path, studio_dirs, counting_predictor):
    import os

    folder = studio_dirs.data_root / "photos"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"a" * 10)
    (tmp_path / "secret.png").write_bytes(b"private")
    (folder / "b.png").symlink_to(tmp_path / "secret.png")
    os.mkfifo(folder / "c.png")

    result = batch_predict_task({"model": {"run": "r"}, "folder": "photos"}, lambda f, m: None)

    rows = {row["image"]: row["error"] for row in result["rows"]}
    assert counting_predictor.read == {"a.png": 10}
    assert rows == {"a.png": "", "b.png": "b.png is not read: a symbolic link to a place outside the data root; "
                                          "not read",
                    "c.png": "c.png is not read: not a regular file (a pipe, socket or device); not read"}


def test_a_full_disk_while_keeping_the_upload_leaves_no_partial_file(studio_dirs, monkeypatch):
    from tests.disk_full import fill_disk
    from tlcore.inference.batch import store_zip
    from tlcore.storage import atomic, uploads
    from tlcore.storage.atomic import DiskFull

    fill_disk(monkeypatch, atomic, room=100)
    fill_disk(monkeypatch, uploads, room=100)  # the upload itself is streamed by uploads' own writer

    with pytest.raises(DiskFull, match="^Disk full: the uploaded zip could not be saved"):
        store_zip(io.BytesIO(b"PK" + b"x" * 4096))  # as the page hands it over: a file object
    assert list((studio_dirs.home / "cache" / "uploads").iterdir()) == []
