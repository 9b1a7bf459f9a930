"""Installing the ImageNet weights every run trains from, and adding custom backbones, as a signed-in user."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from tlcore import backbones
from tlcore.access import User, record, require
from tlcore.backbones.registry import Backbone

__all__ = ["install_weights", "create_custom_backbone"]


def install_weights(user: User, backbone: Backbone | str, image_size: int, data: bytes | IO[bytes]) -> Path:
    """Validate and install an uploaded weights file (admins: it changes every later run on this server)."""
    name = backbone if isinstance(backbone, str) else backbone.name
    require(user, "install_weights", what=f"for {name}")
    path = backbones.install_weights(backbone, image_size, data, owner=user.id)
    record(user, "install_weights", name, image_size=image_size, file=path.name)
    return path


def create_custom_backbone(user: User, name: str, model_path: str | Path, cut_at: str, source: str,
                           preprocess: str | None = None) -> Backbone:
    """Cut an uploaded model into a backbone owned by `user` (members and admins)."""
    require(user, "upload", what="a custom backbone")
    backbone = backbones.create_custom(name, model_path, cut_at, source, preprocess, owner=user.id)
    record(user, "upload", backbone.name, kind="backbone", source=source)
    return backbone
