"""The map and training put every file of a dataset in the same part (train / validation / test), broken files too.

Both build their split through the one split builder (tlcore.datasets.health.split_dataset): it scans the folder,
leaves out the files the check finds unusable, then splits. Before, the map split the scan without leaving them
out, so its stratified split ran over a different list and could show an image as "test" that training used.
"""

from tlcore.config.training import TrainConfig
from tlcore.curation.embeddings import EmbedConfig, _split_for
from tlcore.datasets import load_settings
from tlcore.training.fit import prepare_split


def _parts(split) -> dict[str, str]:
    return {path: name for name in ("train", "val", "test") for path, _ in getattr(split, name)}


def test_map_and_training_agree_on_every_files_part_when_images_are_unreadable(tiny_dataset, studio_dirs):
    name = tiny_dataset("broken", classes=("0", "1", "2"), per_class=30)
    for index, class_name in enumerate(("0", "1", "2")):  # a few broken files spread over the classes
        for copy in range(index + 1):
            (studio_dirs.data_root / name / class_name / f"broken_{copy}.png").write_bytes(b"not an image")
    settings = load_settings(name)

    _, map_split, _ = _split_for(EmbedConfig(name, "MobileNetV2", 32, "random"))
    _, training_split = prepare_split(TrainConfig(dataset=name, backbone="MobileNetV2", image_size=32,
                                                  weights="random", fine_tune_at=None, split=settings.split))

    assert _parts(map_split) == _parts(training_split)
    assert not any("broken" in path for path in _parts(map_split))
    assert sorted(item.path for item in map_split.excluded) == sorted(
        f"{c}/broken_{k}.png" for i, c in enumerate(("0", "1", "2")) for k in range(i + 1))
