"""tlcore.datasets.scan (issue 13): nothing outside the data root is read; links leaving it, broken links, loops, pipes
and nested archives are listed with the reason, never fatal, and the same holds when a file changes after the scan.

An audit hook records every file and folder Python opens, so "nothing outside the root was read" is checked on what
was actually opened, not on what the scan returned.
"""

import os
import sys
import threading
from pathlib import Path

import pytest
from PIL import Image

from tlcore import cli
from tlcore.datasets.health import analyse_files, health_report
from tlcore.datasets.scan import (
    BROKEN_LINK,
    LINK_LOOP,
    LINK_OUTSIDE,
    NESTED_ARCHIVE,
    NOT_A_FILE,
    count_images,
    scan_folder,
)

_opened: list[str] | None = None  # paths opened while a test records; None: not recording


def _audit(event: str, args: tuple) -> None:
    if _opened is not None and event in ("open", "os.scandir", "os.listdir") and args and \
            isinstance(args[0], (str, bytes, os.PathLike)):
        _opened.append(os.path.realpath(os.fsdecode(args[0])))  # where it leads now, before a test swaps it


sys.addaudithook(_audit)  # hooks cannot be removed; this one does nothing unless a test records


@pytest.fixture
def opened():
    """The real paths of everything opened during the test (files and listed folders)."""
    global _opened
    _opened = []
    yield lambda: set(_opened)
    _opened = None


@pytest.fixture
def secret(tmp_path) -> Path:
    """A folder outside the data root holding an image and a class folder of images: never to be read."""
    folder = tmp_path / "secret"
    for index in range(3):
        _png(folder / "private" / f"{index}.png", 200 + index)
    _png(folder / "passport.png", 7)
    return folder


def _png(path: Path, shade: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", (12, 12), shade).save(path)
    return path


def _pets(data_root: Path) -> Path:
    root = data_root / "pets"
    for index in range(4):
        _png(root / "cats" / f"cat_{index}.png", 10 + index)
        _png(root / "dogs" / f"dog_{index}.png", 100 + index)
    return root


def _never_read(opened_paths: set[str], secret: Path) -> bool:
    return not any(path == str(secret) or path.startswith(f"{secret}{os.sep}") for path in opened_paths)


def test_a_class_folder_linked_out_of_the_data_root_is_skipped_and_listed(studio_dirs, secret, opened):
    root = _pets(studio_dirs.data_root)
    (root / "private").symlink_to(secret / "private", target_is_directory=True)

    scan = scan_folder("pets")
    report = health_report(scan)

    assert scan.class_names == ["cats", "dogs"] and len(scan.files) == 8
    assert report["not_read"] == [{"path": "private", "reason": LINK_OUTSIDE,
                                   "message": "a symbolic link to a place outside the data root; not read"}]
    assert _never_read(opened(), secret)


def test_an_image_linked_out_of_the_data_root_is_skipped_and_listed(studio_dirs, secret, opened):
    root = _pets(studio_dirs.data_root)
    (root / "cats" / "cute.png").symlink_to(secret / "passport.png")

    scan = scan_folder("pets")
    report = health_report(scan)

    assert "cats/cute.png" not in dict(scan.files) and report["images"] == 8
    assert [(item["path"], item["reason"]) for item in report["not_read"]] == [("cats/cute.png", LINK_OUTSIDE)]
    assert _never_read(opened(), secret)


def test_links_that_stay_inside_the_data_root_are_followed(studio_dirs):
    root = _pets(studio_dirs.data_root)
    shared = _png(studio_dirs.data_root / "shared" / "cat.png", 50)
    (root / "cats" / "linked.png").symlink_to(shared)
    (root / "birds").symlink_to(studio_dirs.data_root / "shared", target_is_directory=True)

    scan = scan_folder("pets")

    assert scan.class_counts == {"birds": 1, "cats": 5, "dogs": 4} and scan.problems == []


def test_symlink_loops_and_broken_links_are_listed_never_fatal(studio_dirs):
    root = _pets(studio_dirs.data_root)
    (root / "cats" / "self.png").symlink_to(root / "cats" / "self.png")
    (root / "dogs" / "a.png").symlink_to(root / "dogs" / "b.png")
    (root / "dogs" / "b.png").symlink_to(root / "dogs" / "a.png")
    (root / "dogs" / "gone.png").symlink_to(root / "dogs" / "deleted.png")
    (root / "knots").symlink_to(root / "knots", target_is_directory=True)  # a class folder that is a loop

    scan = scan_folder("pets")

    assert scan.class_counts == {"cats": 4, "dogs": 4}
    assert [(problem.path, problem.reason) for problem in scan.problems] == [
        ("cats/self.png", LINK_LOOP), ("dogs/a.png", LINK_LOOP), ("dogs/b.png", LINK_LOOP),
        ("dogs/gone.png", BROKEN_LINK), ("knots", LINK_LOOP)]
    assert count_images("pets") == {"all": {"cats": 4, "dogs": 4}}


def test_a_folder_linked_back_to_a_folder_above_it_is_walked_once(studio_dirs):
    root = _pets(studio_dirs.data_root)
    (root / "cats" / "again").symlink_to(root / "cats", target_is_directory=True)
    (root / "dogs" / "up").symlink_to(root, target_is_directory=True)

    scan = scan_folder("pets")

    assert scan.class_counts == {"cats": 4, "dogs": 4}
    assert [(problem.path, problem.reason) for problem in scan.problems] == [("cats/again", LINK_LOOP),
                                                                             ("dogs/up", LINK_LOOP)]
    assert scan.problems[0].message == "a link back to a folder it is in (a loop); not followed"


@pytest.mark.timeout(60)  # opening a pipe blocks until someone writes to it: a regression hangs, not passes
def test_a_pipe_named_like_an_image_is_listed_and_never_opened(studio_dirs):
    root = _pets(studio_dirs.data_root)
    os.mkfifo(root / "cats" / "stream.png")

    scan = scan_folder("pets")
    report = health_report(scan)

    assert [(item["path"], item["reason"]) for item in report["not_read"]] == [("cats/stream.png", NOT_A_FILE)]
    assert report["unreadable"] == [] and report["images"] == 8


@pytest.mark.timeout(60)
def test_a_file_turned_into_a_pipe_or_an_outside_link_after_the_scan_is_not_read(studio_dirs, secret, opened):
    root = _pets(studio_dirs.data_root)
    scan = scan_folder("pets")
    (root / "cats" / "cat_0.png").unlink()
    os.mkfifo(root / "cats" / "cat_0.png")
    (root / "dogs" / "dog_0.png").unlink()
    (root / "dogs" / "dog_0.png").symlink_to(secret / "passport.png")

    finished = []
    checker = threading.Thread(target=lambda: finished.append(analyse_files(scan)), daemon=True)
    checker.start()
    checker.join(30)

    assert finished, "the health check blocked on a pipe"
    reasons = {item["path"]: item["reason"] for item in finished[0]["unreadable"]}
    assert reasons == {"cats/cat_0.png": NOT_A_FILE, "dogs/dog_0.png": LINK_OUTSIDE}
    assert _never_read(opened(), secret)


def test_a_zip_inside_a_class_folder_is_listed_as_not_opened(studio_dirs):
    root = _pets(studio_dirs.data_root)
    (root / "dogs" / "more-dogs.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)

    scan = scan_folder("pets")

    assert scan.skipped == ["dogs/more-dogs.zip"]
    assert [(problem.path, problem.reason) for problem in scan.problems] == [("dogs/more-dogs.zip", NESTED_ARCHIVE)]


def test_the_cli_lists_links_loops_and_empty_classes_in_its_text_report(studio_dirs, secret, capsys):
    root = _pets(studio_dirs.data_root)
    (root / "private").symlink_to(secret / "private", target_is_directory=True)
    (root / "cats" / "self.png").symlink_to(root / "cats" / "self.png")
    (root / "birds").mkdir()

    assert cli.main(["scan", "pets"]) == 0

    out = capsys.readouterr().out
    assert "left out of training, no images: birds" in out
    assert "  private: a symbolic link to a place outside the data root; not read" in out
    assert "  cats/self.png: a symbolic link that leads back to itself (a loop); not followed" in out
    assert str(secret) not in out


@pytest.mark.parametrize("name, says", [("pets\0x", "holds a NUL byte"), ("p" * 5000, "is too long")],
                         ids=["nul-byte", "5000-characters"])
def test_the_cli_refuses_a_name_no_folder_can_have_with_a_message(studio_dirs, capsys, name, says):
    assert cli.main(["scan", name]) == 2

    err = capsys.readouterr().err
    assert err.startswith("error: '") and says in err and "Traceback" not in err
    assert str(studio_dirs.home.parent) not in err and len(err) < 400
