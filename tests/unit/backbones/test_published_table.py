"""The registry's published figures are the Keras applications documentation's, row by row (fixture: its table)."""

import re
from pathlib import Path

import pytest

from tlcore.backbones import catalog, registry

DOCS_TABLE = Path(__file__).resolve().parents[2] / "data" / "keras_applications_table.md"
NOT_IN_DOCS = {"MobileNetV3Small", "MobileNetV3Large"}  # the documentation's table has no row for them


def _number(cell: str) -> float | None:
    """'79.0%' → 0.79, '22.9M' → 22.9, '-' → None (the page's '–')."""
    cell = cell.strip()
    if cell in ("-", "–"):
        return None
    if cell.endswith("%"):
        return round(float(cell[:-1]) / 100, 4)
    return float(cell.rstrip("M"))


def documented_rows() -> dict[str, dict]:
    rows = {}
    for line in DOCS_TABLE.read_text().splitlines():
        match = re.match(r"\| \[(\w+)\]\([^)]*\) \|(.*)\|\s*$", line)
        if match:
            size, top1, top5, params, depth, cpu, gpu = (_number(c) for c in match.group(2).split("|"))
            rows[match.group(1)] = {"size_mb": size, "top1": top1, "top5": top5, "parameters_m": params,
                                    "depth": None if depth is None else int(depth), "cpu_ms": cpu, "gpu_ms": gpu}
    return rows


def test_the_fixture_is_the_whole_documented_table():
    rows = documented_rows()

    assert len(rows) == 38 and "source" not in rows
    assert "https://keras.io/api/applications/" in DOCS_TABLE.read_text()
    assert set(rows) | NOT_IN_DOCS == set(registry.names())


@pytest.mark.parametrize("name", [n for n in registry.names() if n not in NOT_IN_DOCS])
def test_registry_row_equals_the_documentation(name):
    published = catalog.get(name).to_row()

    assert {key: published[key] for key in documented_rows()[name]} == documented_rows()[name]


@pytest.mark.parametrize("name", sorted(NOT_IN_DOCS))
def test_backbones_missing_from_the_documentation_have_no_figures(name):
    row = catalog.get(name).to_row()

    assert [row[key] for key in ("size_mb", "top1", "top5", "parameters_m", "depth", "cpu_ms", "gpu_ms")] == [None] * 7
