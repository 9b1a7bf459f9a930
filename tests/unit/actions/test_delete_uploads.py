"""Uploaded zips and external models record their owner and are deleted one by one, to the trash and back."""

import pytest

from tlcore import actions
from tlcore.access import ADMIN, MEMBER, NotAllowed, User, read_log
from tlcore.inference import store_upload, store_zip
from tlcore.storage import TrashError, list_trash
from tlcore.storage.uploads import list_uploads, owner_file

ALICE = User("alice@example.com", role=MEMBER)
BOB = User("bob@example.com", role=MEMBER)
ADA = User("ada@example.com", role=ADMIN)


def test_each_upload_records_its_owner():
    zip_path = store_zip(b"zip bytes", owner=ALICE.id)
    model_path = store_upload(b"model bytes", owner=BOB.id)
    owners = {upload.path: (upload.kind, upload.owner) for upload in list_uploads()}
    assert owners == {zip_path: ("uploaded zip", ALICE.id), model_path: ("uploaded model", BOB.id)}


def test_the_owner_deletes_an_upload_to_the_trash_and_restores_it():
    path = store_zip(b"zip bytes", owner=ALICE.id)
    assert ("upload", path.name) in actions.deletable_items(ALICE)
    assert ("upload", path.name) not in actions.deletable_items(BOB)
    with pytest.raises(NotAllowed, match="belongs to alice@example.com"):
        actions.delete_item(BOB, "upload", path.name)
    assert path.exists()

    item = actions.delete_item(ALICE, "upload", path.name)
    assert not path.exists() and not owner_file(path).exists() and list_uploads() == []
    assert [(entry.kind, entry.owner) for entry in list_trash()] == [("upload", ALICE.id)]
    actions.restore(ALICE, item.id)
    assert path.read_bytes() == b"zip bytes" and [upload.owner for upload in list_uploads()] == [ALICE.id]
    assert [(entry["action"], entry.get("kind")) for entry in read_log() if entry["action"] != "refused"] == [
        ("restore", "upload"), ("delete", "upload")]


def test_an_upload_without_a_recorded_owner_is_an_admins_to_delete():
    path = store_upload(b"old model")  # kept before owners were recorded
    assert ("upload", path.name) not in actions.deletable_items(ALICE)
    with pytest.raises(NotAllowed):
        actions.delete_upload(ALICE, path.name)
    actions.delete_upload(ADA, path.name)
    assert not path.exists()


def test_an_upload_a_waiting_task_reads_is_not_deleted():
    from tlcore.jobs.tasks import create_task
    from tlcore.runs.progress import process_identity

    path = store_zip(b"zip bytes", owner=ALICE.id)
    task = create_task("batch_predict", {"zip": str(path), "model": {}}, owner=ALICE.id)
    task.update_status(waiting_process=process_identity())  # held by this process: stays queued
    with pytest.raises(TrashError, match=f"read by the task\\(s\\) {task.id}"):
        actions.delete_upload(ALICE, path.name)
    assert path.exists()


def test_an_unknown_upload_or_kind_is_a_plain_error():
    with pytest.raises(KeyError, match="No uploaded zip or model 'nope.zip'"):
        actions.delete_item(ALICE, "upload", "nope.zip")
    with pytest.raises(KeyError, match="Unknown kind 'photo'"):
        actions.delete_item(ALICE, "photo", "x")


def test_an_uploaded_dataset_is_its_uploaders_to_delete_and_restore(studio_dirs):
    import io

    from tests.zips import zip_bytes

    archive = zip_bytes({"pets/cat/a.png": b"x", "pets/dog/b.png": b"y"})
    folder = actions.upload_dataset(ALICE, io.BytesIO(archive), "pets.zip")
    top = folder.relative_to(studio_dirs.data_root).parts[0]
    assert ("dataset", top) in actions.deletable_items(ALICE)
    assert ("dataset", top) not in actions.deletable_items(BOB)
    with pytest.raises(NotAllowed, match="belongs to alice@example.com"):
        actions.delete_item(BOB, "dataset", top)
    item = actions.delete_item(ALICE, "dataset", top)
    assert not (studio_dirs.data_root / top).exists()
    actions.restore(ALICE, item.id)
    assert (folder / "cat" / "a.png").read_bytes() == b"x"
    assert ("dataset", top) in actions.deletable_items(ALICE)  # still hers after the round trip
    assert [entry["action"] for entry in read_log()] == ["restore", "delete", "refused", "upload"]


def test_a_viewer_cannot_upload_a_dataset():
    import io

    from tlcore.access import VIEWER

    with pytest.raises(NotAllowed):
        actions.upload_dataset(User("vera@example.com", role=VIEWER), io.BytesIO(b""), "x.zip")


def test_a_model_uploaded_to_cut_a_backbone_is_an_owned_upload(tmp_path):
    import keras

    from tlcore.backbones import save_model_upload

    def model_bytes(filters: int) -> bytes:
        inputs = keras.Input((8, 8, 3))
        keras.Model(inputs, keras.layers.Conv2D(filters, 3)(inputs)).save(tmp_path / f"{filters}.keras")
        return (tmp_path / f"{filters}.keras").read_bytes()

    alices = save_model_upload("model.keras", model_bytes(2), owner=ALICE.id)
    bobs = save_model_upload("model.keras", model_bytes(3), owner=BOB.id)  # the same file name, another model
    assert alices != bobs and alices.exists()  # named by content: Bob's never replaces Alice's
    assert sorted((upload.name, upload.kind, upload.owner) for upload in list_uploads()) == sorted([
        (alices.name, "uploaded model", ALICE.id), (bobs.name, "uploaded model", BOB.id)])
    with pytest.raises(NotAllowed):
        actions.delete_upload(BOB, alices.name)
    actions.delete_upload(ALICE, alices.name)
    assert not alices.exists() and bobs.exists()
