"""tlcore.storage.archive (issue 13): caps that hold whatever the compression, colliding and unusable names refused
with the names, damaged entries refused, nested zips reported, a full disk leaving nothing behind, and `.keras` files
inspected by the same rules."""

import io
import struct
import zipfile

import pytest

from tests.disk_full import fill_disk
from tests.zips import encrypted, zip_bytes
from tlcore.storage import archive as archive_module
from tlcore.storage.archive import (
    ArchiveError,
    ZipCaps,
    check_zip,
    extract_zip,
    inspect_keras_archive,
    open_zip,
)
from tlcore.storage.atomic import DiskFull

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # incompressible enough for every ratio


def _nothing_unpacked(studio_dirs) -> bool:
    return list(studio_dirs.data_root.iterdir()) == []


# --- caps ----------------------------------------------------------------------------------------------------------

def test_small_entries_are_ratio_checked_too(studio_dirs):
    # The review's bomb: entries just under 1 MiB each, 1,000× compressed, used to skip the per-entry check.
    data = zip_bytes({f"pets/cats/{index}.bmp": b"\0" * (1024 * 1024 - 1) for index in range(40)})
    assert len(data) < 100_000

    with pytest.raises(ArchiveError, match=r"^Refused: 'pets/cats/0\.bmp' compresses [\d,]+× \(a zip bomb\?\)"):
        extract_zip(io.BytesIO(data), "bomb.zip")
    assert _nothing_unpacked(studio_dirs)


def test_the_whole_archive_ratio_holds_when_each_entry_stays_under_its_own(studio_dirs):
    data = zip_bytes({f"pets/cats/{index}.bmp": b"\0" * 20_000 for index in range(50)})
    caps = ZipCaps(max_ratio=1_000, max_archive_ratio=10)

    with pytest.raises(ArchiveError, match=r"^Refused: the zip unpacks to [\d,]+× its own size \(a zip bomb\?\)"):
        extract_zip(io.BytesIO(data), "bomb.zip", caps=caps)
    assert _nothing_unpacked(studio_dirs)


def test_the_entry_count_is_refused_before_the_central_directory_is_parsed(studio_dirs, monkeypatch):
    data = zip_bytes({f"a/{index}.png": b"" for index in range(30)})
    parsed = []
    monkeypatch.setattr(zipfile.ZipFile, "_RealGetContents", lambda self: parsed.append(self))
    assert ZipCaps(max_files=5).max_entries == 1_010  # folders count as entries: twice the files, and some

    monkeypatch.setattr(ZipCaps, "max_entries", 20)
    with pytest.raises(ArchiveError, match=r"^Refused: the zip lists 30 entries; at most 20 \(files and folders\)"):
        extract_zip(io.BytesIO(data), "many.zip")
    assert parsed == [] and _nothing_unpacked(studio_dirs)


def test_a_forged_size_cannot_unpack_more_than_declared(studio_dirs):
    # The central directory claims 1,000 bytes for 8 MB of zeros: zipfile stops at 1,000, the CRC then fails.
    data = bytearray(zip_bytes({"a/1.png": PNG, "a/zeros.png": b"\0" * (8 << 20)}))
    central = data.rindex(b"PK\x01\x02")  # the last entry's central record; uncompressed size at offset 24
    struct.pack_into("<I", data, central + 24, 1000)
    local = data.index(b"PK\x03\x04", 1)
    struct.pack_into("<I", data, local + 22, 1000)

    with pytest.raises(ArchiveError, match=r"^Refused: the zip entry 'a/zeros\.png' is damaged \(its CRC checksum "
                                           r"does not match its data\); nothing was unpacked\.$"):
        extract_zip(io.BytesIO(bytes(data)), "forged.zip")
    assert _nothing_unpacked(studio_dirs)


# --- names ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("entries, says", [
    ([("pets/cats/1.png", PNG), ("pets/cats/1.png", PNG + b"2")], "'pets/cats/1.png' appears twice"),
    ([("pets/Cats/1.png", PNG), ("pets/cats/2.png", PNG)],
     "the folders 'pets/Cats' and 'pets/cats' differ only in upper/lower case"),
    ([("pets/caf\u00e9/1.png", PNG), ("pets/cafe\u0301/2.png", PNG)],
     "the folders 'pets/caf\u00e9' and 'pets/cafe\u0301' differ only in Unicode normalisation (they look identical)"),
    ([("pets/cats/A.png", PNG), ("pets/cats/a.png", PNG)],
     "the files 'pets/cats/A.png' and 'pets/cats/a.png' differ only in upper/lower case"),
    ([("pets/cats", PNG), ("pets/cats/1.png", PNG)], "'pets/cats' is both a file and a folder"),
    ([("pets/cats/1.png", PNG), ("pets/cats", PNG)], "'pets/cats' is both a file and a folder"),
], ids=["exact-duplicate", "case-only-folders", "nfc-vs-nfd", "case-only-files", "file-then-folder",
        "folder-then-file"])
def test_names_that_collide_once_unpacked_are_refused_with_the_names(studio_dirs, entries, says):
    with pytest.raises(ArchiveError) as refused:
        extract_zip(io.BytesIO(zip_bytes(entries)), "clash.zip")

    assert str(refused.value) == (f"Refused: names in the zip collide once unpacked: {says}. Rename them so each file "
                                  "and folder has a name of its own, and zip again.")
    assert _nothing_unpacked(studio_dirs)


def test_a_name_longer_than_file_systems_allow_is_refused_without_an_oserror(studio_dirs):
    long_name = "pets/cats/" + "a" * 300 + ".png"

    with pytest.raises(ArchiveError) as refused:
        extract_zip(io.BytesIO(zip_bytes({long_name: PNG, "pets/dogs/1.png": PNG})), "long.zip")

    assert str(refused.value) == (f"Refused: the zip entry '{long_name[:60]}…' ({len(long_name)} characters) has a "
                                  "name of 304 bytes; file systems allow 255. Shorten it and zip again.")
    assert _nothing_unpacked(studio_dirs)


def test_an_upload_named_with_300_characters_gets_a_usable_folder_name(studio_dirs):
    folder = extract_zip(io.BytesIO(zip_bytes({"cats/1.png": PNG, "dogs/1.png": PNG})), "p" * 300 + ".zip")

    assert folder == studio_dirs.data_root / ("p" * 100)


# --- damaged, encrypted, nested ------------------------------------------------------------------------------------

def test_an_encrypted_zip_is_refused_naming_the_entries(studio_dirs):
    data = encrypted(zip_bytes({"pets/cats/1.png": PNG, "pets/dogs/1.png": PNG}))

    with pytest.raises(ArchiveError) as refused:
        extract_zip(io.BytesIO(data), "secret.zip")

    assert str(refused.value) == ("Refused: 'pets/cats/1.png', 'pets/dogs/1.png' are encrypted (password-protected); "
                                  "zip the images again without a password.")
    assert _nothing_unpacked(studio_dirs)


def test_a_bad_crc_entry_is_refused_and_nothing_is_unpacked(studio_dirs):
    data = bytearray(zip_bytes({"pets/cats/1.png": PNG, "pets/dogs/1.png": PNG[::-1]}, method=zipfile.ZIP_STORED))
    data[data.index(PNG[::-1]) + 100] ^= 0xFF  # one flipped byte in the stored data of the second entry

    with pytest.raises(ArchiveError) as refused:
        extract_zip(io.BytesIO(bytes(data)), "damaged.zip")

    assert str(refused.value) == ("Refused: the zip entry 'pets/dogs/1.png' is damaged (its CRC checksum does not "
                                  "match its data); nothing was unpacked.")
    assert _nothing_unpacked(studio_dirs)  # not even the first, good entry


def test_nested_zips_are_listed_and_unpacked_closed(studio_dirs):
    inner = zip_bytes({"x/1.png": PNG})
    data = zip_bytes({"pets/cats/1.png": PNG, "pets/dogs/1.png": PNG, "pets/dogs/more.zip": inner})
    archive, size = open_zip(io.BytesIO(data), ZipCaps())

    assert check_zip(archive, size, ZipCaps()).nested_archives == ["pets/dogs/more.zip"]
    folder = extract_zip(io.BytesIO(data), "pets.zip")
    assert (folder / "dogs" / "more.zip").read_bytes() == inner and not (folder / "dogs" / "x").exists()


# --- a full disk ---------------------------------------------------------------------------------------------------

def test_a_full_disk_while_unpacking_leaves_nothing_behind_and_says_disk_full(studio_dirs, monkeypatch):
    fill_disk(monkeypatch, archive_module, room=len(PNG) + 10)  # the first file fits, the second does not

    with pytest.raises(DiskFull) as full:
        extract_zip(io.BytesIO(zip_bytes({"pets/cats/1.png": PNG, "pets/dogs/1.png": PNG})), "pets.zip")

    assert str(full.value).startswith("Disk full: the unpacked zip could not be saved")
    assert _nothing_unpacked(studio_dirs)  # the hidden staging folder is gone too


# --- .keras files --------------------------------------------------------------------------------------------------

def _keras_like(extra: dict[str, bytes] | None = None) -> dict[str, bytes]:
    members = {"metadata.json": b'{"keras_version": "3.15.1"}', "config.json": b'{"class_name": "Functional"}',
               "model.weights.h5": bytes(range(256)) * 64}
    return {**members, **(extra or {})}


def test_a_keras_file_as_keras_writes_it_passes(tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(zip_bytes(_keras_like(), method=zipfile.ZIP_STORED))  # Keras stores its members uncompressed

    listing = inspect_keras_archive(path)

    assert [info.filename for info in listing.files] == ["metadata.json", "config.json", "model.weights.h5"]


@pytest.mark.parametrize("extra, caps, says", [
    ({"assets/padding.bin": b"\0" * (800 << 10)}, ZipCaps(), r"'assets/padding\.bin' compresses [\d,]+×"),
    ({f"assets/{index}.bin": b"x" for index in range(20)}, ZipCaps(max_files=10), "more than 10 files"),
    ({"assets/big.bin": bytes(range(256)) * 4096}, ZipCaps(max_total_bytes=1 << 20), "unpacks to more than 1 MB"),
    ({"../escape.json": b"{}"}, ZipCaps(), r"points outside its folder \('\.\.'\)"),
], ids=["member-ratio", "member-count", "member-sizes", "member-path"])
def test_a_keras_file_with_hostile_members_is_refused_before_keras_opens_it(tmp_path, extra, caps, says):
    path = tmp_path / "model.keras"
    path.write_bytes(zip_bytes(_keras_like(extra)))

    with pytest.raises(ArchiveError, match=says):
        inspect_keras_archive(path, caps)


def test_a_keras_file_that_is_not_a_zip_is_refused(tmp_path):
    (tmp_path / "model.keras").write_bytes(b"HDF5 but not a zip")

    with pytest.raises(ArchiveError, match=r"^Not a readable \.zip file"):
        inspect_keras_archive(tmp_path / "model.keras")
