from __future__ import annotations

# The diagnosis tests' photo fixtures and eager tasks, for the flows whose history we check.
from tests.diagnosis.conftest import (  # noqa: F401
    _tasks_run_in_process,
    alice_case,
    bob_case,
    lesion_jpeg,
)
