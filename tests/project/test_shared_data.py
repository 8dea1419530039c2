"""A run that needs the shared photos and lacks them stops once, saying where to put them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DECODE_TESTS = "tests/ml_worker/test_decode.py"  # some tests read photos, some need none


def pytest_run(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        env=os.environ | {"SKIN_DATA_DIR": str(data)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def collected(*marks: str) -> int:
    """How many tests of DECODE_TESTS pytest collects, with the data present."""
    ids = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q"]
        + [DECODE_TESTS, *marks],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    # addopts' -q with this -q prints one "path: count" line per file
    found = re.search(rf"^{re.escape(DECODE_TESTS)}: (\d+)$", ids, re.M)
    assert found, ids
    return int(found.group(1))


def decode_test_counts() -> tuple[int, int]:
    """(tests that read the shared photos, tests that need none) in DECODE_TESTS."""
    reading, total = collected("-m", "shared_data"), collected()
    assert 0 < reading < total, (reading, total)
    return reading, total - reading


@pytest.mark.slow
def test_a_run_without_the_data_stops_once_naming_skin_data_dir(tmp_path: Path) -> None:
    reading, _ = decode_test_counts()
    run = pytest_run(DECODE_TESTS, data=tmp_path)
    out = run.stdout + run.stderr

    assert run.returncode == pytest.ExitCode.USAGE_ERROR, out
    assert out.count("ERROR: the shared data is missing") == 1
    assert f"{tmp_path} has no ham10000" in out
    assert "set SKIN_DATA_DIR" in out and "../shared/data" in out
    assert f"{reading} of the selected tests read it" in out
    assert "FileNotFoundError" not in out and "passed" not in out


@pytest.mark.slow
def test_tests_that_need_no_data_still_run_without_it(tmp_path: Path) -> None:
    reading, needing_none = decode_test_counts()
    alone = pytest_run(f"{DECODE_TESTS}::test_it_refuses_empty_bytes", data=tmp_path)
    rest = pytest_run(DECODE_TESTS, "-m", "not shared_data", data=tmp_path)

    assert alone.returncode == 0 and "1 passed" in alone.stdout, alone.stdout + alone.stderr
    summary = f"{needing_none} passed, {reading} deselected"
    assert rest.returncode == 0 and summary in rest.stdout, rest.stdout


def test_every_test_finds_the_data_through_the_data_dir_fixture() -> None:
    # One that opens the photos some other way is not counted, and fails with FileNotFoundError.
    around = re.compile(
        r"(?<!def )\bdata_dir\(\)|\bDATA\b|getenv\(\"SKIN_DATA_DIR\"|environ\[\"SKIN_DATA_DIR"
    )
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if path != Path(__file__).resolve()
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if around.search(line)
    ]
    assert offenders == [], "take the data_dir fixture (tests/conftest.py) instead"
