"""tlcore.layers.loading: a `.keras` file is inspected as an archive before Keras opens it."""

import zipfile

import pytest

from tlcore.layers.loading import BadModelFile, load_model


def test_a_small_keras_file_that_unpacks_to_gigabytes_is_refused_before_keras_opens_it(tmp_path, monkeypatch):
    bomb = tmp_path / "bomb.keras"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", '{"class_name": "Functional"}')
        archive.writestr("model.weights.h5", b"\0" * (64 * 1024 * 1024))  # 64 MiB of zeros: ~64 KB compressed
    assert bomb.stat().st_size < 1024 * 1024
    opened = []
    monkeypatch.setattr("keras.saving.load_model", lambda *args, **kwargs: opened.append(args), raising=False)

    with pytest.raises(BadModelFile, match=r"^`bomb.keras` was refused before loading: .*model\.weights\.h5"):
        load_model(bomb)
    assert opened == []


def test_a_keras_file_whose_member_would_land_outside_its_folder_is_refused(tmp_path):
    escaping = tmp_path / "escaping.keras"
    with zipfile.ZipFile(escaping, "w") as archive:
        archive.writestr("config.json", "{}")
        archive.writestr("../../outside.txt", "written next to the temporary folder Keras unpacks into")

    with pytest.raises(BadModelFile, match="refused before loading"):
        load_model(escaping)
