from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.diagnosis.conftest import NEVUS


def test_analyze_prints_a_readable_summary(data_dir: Path) -> None:
    out = StringIO()

    call_command("analyze", str(data_dir / NEVUS), stdout=out)

    text = out.getvalue()
    assert text.startswith("status: ")
    assert "quality: ok" in text and "timings (ms): decode" in text


def test_analyze_prints_the_full_result_as_json(data_dir: Path) -> None:
    out = StringIO()

    call_command("analyze", str(data_dir / NEVUS), "--json", stdout=out)

    result = json.loads(out.getvalue())
    assert result["status"] in ("ok", "unknown")
    assert len(result["classification"]["top3"]) == 3
    assert result["model_version"]


def test_analyze_fails_on_a_file_that_is_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("not a photo")

    with pytest.raises(CommandError, match="unsupported_format"):
        call_command("analyze", str(path), stdout=StringIO())


def test_analyze_fails_on_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read"):
        call_command("analyze", str(tmp_path / "missing.jpg"))
