"""Dependencies between our apps point one way (STYLE.md, issue 17).

    review -> diagnosis -> patients;   ml_worker.tasks -> diagnosis;
    audit, knowledge and ml_worker.inference import none of our apps.

Read from the source (every import statement, at any depth, migrations aside), so an import
inside a function counts as much as one at the top. The edges that still run the wrong way
are listed in KNOWN_BACK_EDGES, each with the file that holds it: the list may only shrink,
and an entry that no longer exists must be struck off, so it cannot go stale.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Which of our units each unit may import. A unit is an app, or a part of ml_worker.
MAY_IMPORT: dict[str, set[str]] = {
    "skincare_project": {"patients", "diagnosis", "review", "audit", "knowledge", "ml_worker"},
    "review": {"diagnosis", "patients", "audit", "knowledge", "ml_worker.inference"},
    "diagnosis": {"patients", "audit", "knowledge", "ml_worker.inference"},
    "patients": {"audit", "knowledge"},
    "audit": set(),
    "knowledge": set(),
    "ml_worker.inference": set(),
    "ml_worker.tasks": {"diagnosis", "ml_worker.inference"},
    "ml_worker.management": {"diagnosis", "ml_worker.inference"},
    # Training, evaluation and benchmarks: offline tools over the inference package.
    "ml_worker": {"ml_worker.inference", "ml_worker.training"},
    "ml_worker.training": {"ml_worker.inference", "ml_worker"},
}

# (importing file, imported unit): the back edges left to remove. Strike each off as it goes.
KNOWN_BACK_EDGES: set[tuple[str, str]] = set()


def unit_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] not in {u.split(".")[0] for u in MAY_IMPORT}:
        return None
    if parts[0] == "ml_worker" and len(parts) > 1 and f"ml_worker.{parts[1]}" in MAY_IMPORT:
        return f"ml_worker.{parts[1]}"
    return parts[0]


def imports() -> set[tuple[str, str]]:
    """(file, unit) for every import of another unit of ours."""
    found: set[tuple[str, str]] = set()
    for top in {u.split(".")[0] for u in MAY_IMPORT}:
        for path in (ROOT / top).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if "/migrations/" in rel:
                continue
            here = unit_of(rel.removesuffix(".py").replace("/", "."))
            for node in ast.walk(ast.parse(path.read_text(), rel)):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    there = unit_of(name)
                    if there is not None and there != here:
                        found.add((rel, there))
    return found


def back_edges() -> set[tuple[str, str]]:
    out = set()
    for rel, there in imports():
        here = unit_of(rel.removesuffix(".py").replace("/", "."))
        assert here is not None
        if there not in MAY_IMPORT[here]:
            out.add((rel, there))
    return out


def test_no_app_imports_one_above_it() -> None:
    new = back_edges() - KNOWN_BACK_EDGES
    assert not new, f"imports that point up the layers (see MAY_IMPORT): {sorted(new)}"


def test_the_list_of_known_back_edges_holds_only_live_ones() -> None:
    gone = KNOWN_BACK_EDGES - back_edges()
    assert not gone, f"these back edges are gone; strike them off KNOWN_BACK_EDGES: {sorted(gone)}"


def test_the_checker_sees_an_import_inside_a_function() -> None:
    tree = ast.parse("def f():\n    from review.models import Review\n")
    modules = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert [unit_of(m) for m in modules if m] == ["review"]
    assert unit_of("ml_worker.inference.pipeline") == "ml_worker.inference"
    assert unit_of("numpy") is None
