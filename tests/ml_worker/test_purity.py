from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import ml_worker.inference

FORBIDDEN = (
    "django",
    "celery",
    "rest_framework",
    "kombu",
    "patients",
    "diagnosis",
    "knowledge",
    "skincare_project",
    "tensorflow",
    "keras",
)


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_inference_package_imports_no_django_celery_or_project_app() -> None:
    pkg = Path(ml_worker.inference.__file__).parent
    files = sorted(pkg.glob("*.py"))
    assert len(files) >= 5
    for f in files:
        bad = _imports(f) & set(FORBIDDEN)
        # TensorFlow appears only as a guarded fallback for the interpreter.
        if f.name == "model.py":
            bad -= {"tensorflow"}
        assert not bad, f"{f.name} imports {bad}"


def test_importing_inference_loads_no_django_or_tensorflow() -> None:
    code = (
        "import sys, ml_worker.inference as m; "
        "bad=[k for k in sys.modules if k.split('.')[0] in "
        "('django','celery','tensorflow','keras','rest_framework')]; print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.stdout.strip() == "[]"
