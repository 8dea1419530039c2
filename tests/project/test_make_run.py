"""`make run`'s recipe, read with `make -n` (which prints the commands without running them)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def dry_run(*args: str, **env: str) -> list[str]:
    # Under `make test` the parent make's flags would come along (and print "Entering
    # directory" lines); this is a make of its own.
    dropped = ("SITE_URL", "PORT", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    # -o: treat the venv's stamp as up to date, so the listing is the run recipe alone.
    out = subprocess.run(
        ["make", "--no-print-directory", "-n", "-o", ".venv/.installed-runtime", "run", *args],
        cwd=ROOT,
        env=base | env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.splitlines()


def test_site_url_follows_the_port_so_email_links_open_the_running_site() -> None:
    recipe = "\n".join(dry_run("PORT=8123"))

    assert "export SITE_URL='http://localhost:8123'" in recipe
    assert "runserver 127.0.0.1:8123" in recipe


def test_site_url_follows_a_port_set_in_the_environment() -> None:
    assert "export SITE_URL='http://localhost:8080'" in "\n".join(dry_run(PORT="8080"))


def test_the_port_defaults_to_8000() -> None:
    recipe = "\n".join(dry_run())

    assert "export SITE_URL='http://localhost:8000'" in recipe
    assert "runserver 127.0.0.1:8000" in recipe


def test_a_site_url_set_by_the_user_wins() -> None:
    recipe = "\n".join(dry_run("PORT=8123", SITE_URL="https://derm.example.org"))

    assert "export SITE_URL='https://derm.example.org'" in recipe


def test_the_demo_accounts_are_the_last_output_before_the_server_starts() -> None:
    lines = dry_run()

    # The setup commands print nothing when they succeed, and the worker logs to a file.
    assert any("manage.py migrate --noinput -v 0" in line for line in lines)
    assert any("manage.py collectstatic --noinput -v 0" in line for line in lines)
    assert any(">var/worker.log 2>&1 &" in line for line in lines)
    seed = next(i for i, line in enumerate(lines) if "manage.py seed_demo" in line)
    assert [line.strip() for line in lines[seed + 1 :]] == [
        ".venv/bin/python manage.py runserver 127.0.0.1:8000"
    ]
