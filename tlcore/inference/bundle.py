"""One zip a deployer takes away: the chosen exports, labels, metadata, model card, client snippets, parity report.

Built from what exports/ already holds (each format checked in its own runtime), so the bundle never carries a file
the report has not judged. Written atomically as exports/bundle.zip (`tlcore.inference.export.bundle_run`).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

__all__ = ["BUNDLE_FILE", "SHARED_FILES", "bundle_formats", "write_bundle"]

BUNDLE_FILE = "bundle.zip"
SHARED_FILES = ("labels.txt", "metadata.json", "model_card.md", "model_card.json", "README.md")


def bundle_formats(exports: Path, report: dict[str, Any]) -> list[str]:
    """Formats whose export is on disk and passed its check (rows without an error)."""
    return [name for name, row in report.get("formats", {}).items()
            if "path" in row and "error" not in row and (exports / row["path"]).exists()]


def write_bundle(exports: Path, report: dict[str, Any], formats: list[str] | None = None,
                 stale: str | None = None) -> Path:
    """Zip the chosen (default: every good) export folders with the shared files; returns exports/bundle.zip.

    Raises:
        ValueError: nothing exported yet, or a chosen format has no good export.
    """
    available = bundle_formats(exports, report)
    chosen = list(formats or available)
    missing = [name for name in chosen if name not in available]
    if not chosen or missing:
        raise ValueError(f"There is no checked export of {', '.join(missing) or 'any format'} yet; export it first.")
    kept = {**report, "formats": {name: report["formats"][name] for name in chosen}, "stale": stale}
    partial = exports / f".{BUNDLE_FILE}.partial"
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in SHARED_FILES:
            if (exports / name).exists():
                archive.write(exports / name, name)
        archive.writestr("report.json", json.dumps(kept, indent=2))
        for name in chosen:
            for path in sorted((exports / name).rglob("*")):
                if path.is_file() and path.suffix != ".zip":  # the folder's own download zip would double it
                    archive.write(path, path.relative_to(exports))
    partial.replace(exports / BUNDLE_FILE)
    return exports / BUNDLE_FILE
