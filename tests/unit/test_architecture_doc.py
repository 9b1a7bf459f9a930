"""docs/architecture.md stays true to the code: its module list is the tree's (both ways), and every `tlcore.…`
name and `tlcore/….py` path it cites exists. Reads files only: nothing is imported."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "architecture.md"
LIST_HEADER = "Every module, package by package"


def _listed_modules() -> set[str]:
    """The fenced block after LIST_HEADER: `package/   a, b, c` lines (continued on indented lines)."""
    text = DOC.read_text()
    block = text[text.index(LIST_HEADER):].split("```")[1]
    listed, package = set(), None
    for line in block.splitlines():
        if not line.strip():
            continue
        if not line.startswith(" "):
            head, line = line.split(maxsplit=1)
            package = "" if head == "tlcore/" else head.rstrip("/")
        for name in (part.strip() for part in line.split(",")):
            if name:
                listed.add(f"{package}.{name}" if package else name)
    return listed


def _tree_modules() -> set[str]:
    root = REPO / "tlcore"
    found = set()
    for path in root.rglob("*.py"):
        relative = path.relative_to(root).with_suffix("")
        if relative.name == "__init__" or "__pycache__" in relative.parts:
            continue
        found.add(".".join(relative.parts))
    return found


def test_the_documents_module_list_is_the_tree_both_ways():
    listed, tree = _listed_modules(), _tree_modules()

    assert sorted(tree - listed) == [], "modules missing from docs/architecture.md"
    assert sorted(listed - tree) == [], "docs/architecture.md lists modules that do not exist"


def _module_file(parts: list[str]) -> Path | None:
    base = REPO.joinpath(*parts)
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def _defines(source: str, name: str) -> bool:
    return re.search(rf"^\s*(def|class)\s+{name}\b|^\s*{name}\s*[:=]|\b{name}\b,?\s*$|import .*\b{name}\b|\"{name}\"",
                     source, re.MULTILINE) is not None


def test_every_name_and_path_the_document_cites_exists():
    text = DOC.read_text()
    missing = []
    for dotted in sorted(set(re.findall(r"\btlcore(?:\.[A-Za-z_]\w*)+", text))):
        parts = dotted.split(".")
        for cut in range(len(parts), 0, -1):  # the longest prefix that is a module or package
            module = _module_file(parts[:cut])
            if module is not None:
                break
        rest = parts[cut:]
        if module is None or len(rest) > 2 or (rest and not _defines(module.read_text(), rest[0])):
            missing.append(dotted)
    for path in sorted(set(re.findall(r"\b(?:tlcore|pages|tests)/[\w/]+\.py\b", text))):
        if not (REPO / path).is_file():
            missing.append(path)

    assert missing == []
