"""The trash keeps where an item came from, restores it there, never overwrites, and empties for good."""

import pytest

from tlcore.storage import TrashError, empty_trash, list_trash, move_to_trash, restore_from_trash


def test_a_folder_round_trips_through_the_trash(tmp_path):
    folder = tmp_path / "thing"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.txt").write_text("keep me")
    item = move_to_trash(folder, "run", "alice", owner="alice")
    assert not folder.exists() and item.size_bytes == 7 and item.original == str(folder)
    assert restore_from_trash(item.id) == folder
    assert (folder / "sub" / "a.txt").read_text() == "keep me" and list_trash() == []


def test_restore_never_overwrites_what_now_lives_there(tmp_path):
    path = tmp_path / "model.keras"
    path.write_text("old")
    item = move_to_trash(path, "upload", "bob")
    path.write_text("new")
    with pytest.raises(TrashError, match="exists again"):
        restore_from_trash(item.id)
    assert path.read_text() == "new" and len(list_trash()) == 1


def test_empty_frees_the_space_and_unknown_items_are_refused(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).write_text("xx")
        move_to_trash(tmp_path / name, "upload", "bob")
    assert empty_trash() == 4 and list_trash() == []
    with pytest.raises(TrashError, match="Nothing to delete"):
        move_to_trash(tmp_path / "missing", "run", "bob")
    with pytest.raises(TrashError, match="No item"):
        restore_from_trash("../etc")


def test_companion_files_go_to_the_trash_and_back_with_their_item(tmp_path):
    item_path, companion = tmp_path / "a.zip", tmp_path / "a.zip.owner.json"
    item_path.write_bytes(b"zip")
    companion.write_text('{"owner": "alice"}')
    item = move_to_trash(item_path, "upload", "alice", owner="alice", companions=(companion, tmp_path / "missing.json"))
    assert not item_path.exists() and not companion.exists()
    companion.write_text("new")  # something new at a companion's place: nothing is overwritten
    with pytest.raises(TrashError, match="exists again"):
        restore_from_trash(item.id)
    companion.unlink()
    restore_from_trash(item.id)
    assert item_path.read_bytes() == b"zip" and companion.read_text() == '{"owner": "alice"}'
