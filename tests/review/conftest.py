"""The review app's tests share the diagnosis tests' photos, personas and task settings."""

from tests.diagnosis.conftest import (  # noqa: F401  (pytest fixtures, found by name)
    _tasks_run_in_process,
    alice_case,
    bob_case,
    erin,
    lesion_jpeg,
)
