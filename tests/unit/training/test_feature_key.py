"""feature_key: a custom backbone's own file (base.keras) is part of the feature cache key."""

import os

from tlcore.backbones.custom import custom_root
from tlcore.config.training import TrainConfig
from tlcore.storage.atomic import write_json_atomic
from tlcore.training.feature_cache import feature_key


def _custom_backbone(name: str, base_bytes: bytes):
    """A custom backbone folder as tlcore.backbones.custom writes it (the key only looks at the file, not inside)."""
    folder = custom_root() / name
    folder.mkdir(parents=True, exist_ok=True)
    write_json_atomic(folder / "backbone.json", {"name": f"custom-{name}", "preprocess": "none", "input_size": 32})
    (folder / "base.keras").write_bytes(base_bytes)
    return folder / "base.keras"


def _key(backbone: str, weights: str = "imagenet") -> str:
    config = TrainConfig(dataset="d", backbone=backbone, image_size=32, weights=weights)
    return feature_key(config, custom_root(), "train", [])


def test_a_custom_backbone_saved_again_under_the_same_name_gets_a_new_key(studio_dirs):
    base = _custom_backbone("lab", b"first base")
    first = _key("custom-lab")
    assert _key("custom-lab") == first

    base.write_bytes(b"a retrained base")  # same name, other weights (another size)
    resized = _key("custom-lab")
    base.write_bytes(b"another base 123")  # the same size again: only the modification time tells
    os.utime(base, ns=(base.stat().st_atime_ns, base.stat().st_mtime_ns + 10**9))
    touched = _key("custom-lab")

    assert len({first, resized, touched}) == 3
    assert _key("custom-lab", weights="random") not in {first, resized, touched}  # random: the same layers, redrawn


def test_a_keras_backbone_key_does_not_depend_on_custom_backbones(studio_dirs):
    before = _key("MobileNetV2")
    _custom_backbone("lab", b"x")

    assert _key("MobileNetV2") == before
