"""Storage page: disk use by kind; delete needs the confirmation, goes to the trash, and Restore undoes it."""

from page_helpers import by_label, make_run

from tlcore.runs import list_runs


def test_delete_with_confirmation_then_restore(open_page, studio):
    run = make_run(state="finished")
    run.model_path.write_bytes(b"x" * 2000)
    at = open_page("pages/storage.py")
    kinds = at.dataframe[0].value["kind"].tolist()
    assert kinds[:2] == ["runs", "tasks"] and "features cache" in kinds and "trash" in kinds

    assert by_label(at.button, "Delete").disabled  # not before the confirmation
    by_label(at.checkbox, f"Yes, move {run.id} to the trash").check().run()
    by_label(at.button, "Delete").click().run()
    assert list_runs() == [] and not run.path.exists()
    assert at.dataframe[-1].value["kind"].tolist() == ["run"]

    by_label(at.button, "Restore").click().run()
    assert [found.id for found in list_runs()] == [run.id] and run.model_path.stat().st_size == 2000


def test_an_active_run_is_not_offered_and_caches_prune(open_page, studio):
    make_run(state="running", pid=None)
    (studio.home / "cache" / "thumbnails").mkdir(parents=True)
    (studio.home / "cache" / "thumbnails" / "a.png").write_bytes(b"x" * 100)
    at = open_page("pages/storage.py")
    assert not [box for box in at.selectbox if box.label == "Run or task"]
    by_label(at.button, "Prune caches").click().run()
    assert not (studio.home / "cache" / "thumbnails").exists()


def test_an_export_is_deleted_to_the_trash(open_page, studio):
    run = make_run(state="finished")
    (run.path / "exports").mkdir()
    (run.path / "exports" / "model.tflite").write_bytes(b"x" * 10)
    at = open_page("pages/storage.py")
    by_label(at.selectbox, "Item").set_value(("export", run.id)).run()
    by_label(at.checkbox, f"Yes, move the export {run.id} to the trash").check().run()
    by_label(at.button, "Delete item").click().run()
    assert not (run.path / "exports").exists() and run.path.exists()
    assert "export" in at.dataframe[-1].value["kind"].tolist()


def test_a_member_deletes_her_upload_with_a_confirmation_and_restores_it(open_page, studio):
    from tlcore.access import MEMBER, User
    from tlcore.inference import store_zip

    alice = User("alice@example.com", name="Alice", role=MEMBER)
    mine = store_zip(b"alice's zip", owner=alice.id, shown_name="holiday.zip")
    theirs = store_zip(b"bob's zip", owner="bob@example.com")
    at = open_page("pages/storage.py", user=alice)
    offered = by_label(at.selectbox, "Item").options
    assert [option for option in offered if option.startswith("upload: holiday.zip (uploaded zip ")
            and mine.name in option] and not [option for option in offered if theirs.name in option]
    by_label(at.selectbox, "Item").set_value(("upload", mine.name)).run()
    assert by_label(at.button, "Delete item").disabled  # not before the confirmation
    by_label(at.checkbox, f"Yes, move the upload {mine.name} to the trash").check().run()
    by_label(at.button, "Delete item").click().run()
    assert not mine.exists() and theirs.exists()
    assert at.dataframe[-1].value["kind"].tolist() == ["upload"]
    by_label(at.button, "Restore").click().run()
    assert mine.read_bytes() == b"alice's zip"


def test_a_dataset_a_member_uploads_is_hers_to_delete(open_page, studio):
    import io

    from PIL import Image

    from tests.zips import zip_bytes
    from tlcore.access import MEMBER, User

    def png(shade: int) -> bytes:
        buffer = io.BytesIO()
        Image.new("RGB", (8, 8), (shade, 0, 0)).save(buffer, "PNG")
        return buffer.getvalue()

    alice = User("alice@example.com", name="Alice", role=MEMBER)
    bob = User("bob@example.com", name="Bob", role=MEMBER)
    dataset = open_page("pages/dataset.py", user=alice)
    by_label(dataset.radio, "Source").set_value("Upload a .zip").run()
    entries = {f"{name}/{i}.png": png(i * 40 + len(name)) for name in ("roses", "tulips") for i in range(3)}
    dataset.file_uploader[0].set_value(("flowers.zip", zip_bytes(entries), "application/zip")).run()
    assert not dataset.exception and (studio.data_root / "flowers" / "roses").is_dir()

    bob_view = open_page("pages/storage.py", user=bob)
    assert not [box for box in bob_view.selectbox if box.label == "Item"]  # nothing of his: her dataset not offered
    at = open_page("pages/storage.py", user=alice)
    assert "dataset: flowers" in by_label(at.selectbox, "Item").options
    assert "dataset: sample-digits" not in by_label(at.selectbox, "Item").options  # not uploaded by her
    by_label(at.selectbox, "Item").set_value(("dataset", "flowers")).run()
    by_label(at.checkbox, "Yes, move the dataset flowers to the trash").check().run()
    by_label(at.button, "Delete item").click().run()
    assert not (studio.data_root / "flowers").exists()
    assert at.dataframe[-1].value["owner"].tolist() == [alice.id]
