"""tlcore.storage.paths: folders come from the environment, and a dataset path can never leave the data root."""

import pytest

from tlcore.storage.paths import (
    PathOutsideRoot,
    UnusablePath,
    cache_root,
    data_root,
    keras_models_dir,
    resolve_dataset_path,
    resolve_inside_root,
    runs_root,
    shown_name,
)


def test_folders_follow_the_environment(studio_dirs):
    assert data_root() == studio_dirs.data_root.resolve()
    assert runs_root() == studio_dirs.runs.resolve()
    assert cache_root() == studio_dirs.home / "cache" and cache_root().is_dir()
    assert keras_models_dir() == studio_dirs.keras_home / "models"


def test_data_and_runs_default_under_the_studio_home(studio_dirs, monkeypatch):
    monkeypatch.delenv("TLSTUDIO_DATA_ROOT")
    monkeypatch.delenv("TLSTUDIO_RUNS_DIR")

    assert data_root() == (studio_dirs.home / "data").resolve() and data_root().is_dir()
    assert runs_root() == (studio_dirs.home / "runs").resolve() and runs_root().is_dir()


def test_relative_path_is_taken_under_the_data_root(studio_dirs):
    (studio_dirs.data_root / "flowers" / "roses").mkdir(parents=True)

    assert resolve_dataset_path("flowers") == studio_dirs.data_root.resolve() / "flowers"
    assert resolve_dataset_path("flowers/roses/..") == studio_dirs.data_root.resolve() / "flowers"


def test_absolute_path_inside_the_root_is_accepted(studio_dirs):
    inside = studio_dirs.data_root / "pets"
    inside.mkdir()

    assert resolve_dataset_path(str(inside)) == inside.resolve()
    assert resolve_dataset_path(studio_dirs.data_root) == studio_dirs.data_root.resolve()


@pytest.mark.parametrize("escape", ["..", "../runs", "pets/../../home", "/etc", "/"])
def test_dot_dot_and_outside_absolute_paths_are_refused_naming_the_root(studio_dirs, escape):
    (studio_dirs.data_root / "pets").mkdir()

    with pytest.raises(PathOutsideRoot) as refused:
        resolve_dataset_path(escape)

    message = str(refused.value)
    assert f"'{escape}' is outside the data root (the folder this server reads datasets from)" in message
    assert str(studio_dirs.data_root) not in message and "TLSTUDIO_DATA_ROOT" not in message  # admins: the log


def test_symlink_leading_out_of_the_root_is_refused(studio_dirs, tmp_path):
    secret = tmp_path / "secret"
    (secret / "class_a").mkdir(parents=True)
    (studio_dirs.data_root / "innocent").symlink_to(secret, target_is_directory=True)

    with pytest.raises(PathOutsideRoot, match=r"^'innocent' is outside the data root \(the folder this server reads"):
        resolve_dataset_path("innocent")
    with pytest.raises(PathOutsideRoot):
        resolve_dataset_path("innocent/class_a")


def test_symlink_staying_inside_the_root_is_accepted(studio_dirs):
    (studio_dirs.data_root / "real").mkdir()
    (studio_dirs.data_root / "alias").symlink_to(studio_dirs.data_root / "real", target_is_directory=True)

    assert resolve_dataset_path("alias") == studio_dirs.data_root.resolve() / "real"


# --- issue 13: names no file system accepts, loops, and the read-time check -----------------------------------------

@pytest.mark.parametrize("bad, says", [("pets\0../../etc", "holds a NUL byte"), ("x" * 5000, "is too long"),
                                       ("a/" + "b" * 300, "is too long")], ids=["nul-byte", "5000-chars", "300-name"])
def test_a_name_no_file_system_accepts_is_refused_with_a_message_not_an_oserror(studio_dirs, bad, says):
    with pytest.raises(UnusablePath) as refused:
        resolve_dataset_path(bad)

    message = str(refused.value)
    assert says in message and message.startswith("'") and "is not a usable folder name" in message
    assert str(studio_dirs.home.parent) not in message  # no server path
    assert len(message) < 400  # 5,000 characters are not echoed back
    assert isinstance(refused.value, PathOutsideRoot)  # every caller that refuses outside paths refuses these


def test_a_symlink_loop_as_the_dataset_is_a_message(studio_dirs):
    (studio_dirs.data_root / "loop").symlink_to(studio_dirs.data_root / "loop")

    with pytest.raises(UnusablePath, match=r"^'loop' is a symbolic link that leads back to itself \(a loop\)\.$"):
        resolve_dataset_path("loop")


def test_resolve_inside_root_refuses_a_file_whose_link_leaves_the_root(studio_dirs, tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"private")
    (studio_dirs.data_root / "pets").mkdir()
    (studio_dirs.data_root / "pets" / "cat.png").symlink_to(secret)
    (studio_dirs.data_root / "pets" / "real.png").write_bytes(b"x")

    with pytest.raises(PathOutsideRoot, match="'cat.png' links to a place outside the data root"):
        resolve_inside_root(studio_dirs.data_root / "pets" / "cat.png")
    assert resolve_inside_root(studio_dirs.data_root / "pets" / "real.png") == \
        (studio_dirs.data_root / "pets" / "real.png").resolve()


def test_shown_name_makes_control_characters_visible_and_cuts_long_text():
    assert shown_name("pets") == "'pets'"
    assert shown_name("a\0b\nc") == "'a\\x00b\\nc'"
    assert shown_name("y" * 5000) == f"'{'y' * 240}…' (5,000 characters)"
    assert shown_name("y" * 5000, 10) == "'yyyyyyyyyy…' (5,000 characters)"
