"""The move of Review and Annotation from diagnosis to review keeps every row (issue 17).

Migrates a database to the last state before the move, writes a review and an annotation
through the historical models, migrates forward, and finds them in the review app's tables;
then back again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("diagnosis", "0007_case_title_patient_seen_review_at"), ("review", None)]
AFTER = [("diagnosis", "0008_review_models_to_review_app"), ("review", "0002_tables_renamed")]


def _migrate(targets: Sequence[tuple[str, str | None]]) -> Any:
    """Migrate to `targets`; the historical models there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    nodes = [(app, name) for app, name in targets if name is not None]
    return MigrationExecutor(connection).loader.project_state(nodes).apps


# serialized_rollback: the database is put back as it was after this test, content types
# included, so tests after it that restore the serialized database find no second copy.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_moving_the_review_models_keeps_their_rows() -> None:
    old = _migrate(BEFORE)
    now = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)
    user = old.get_model("patients", "User").objects.create(username="dana_m", role="dermatologist")
    case = old.get_model("diagnosis", "Case").objects.create(
        patient=user, body_site="back", duration="weeks"
    )
    image = old.get_model("diagnosis", "LesionImage").objects.create(
        case=case,
        uploaded_by=user,
        file="a.jpg",
        thumbnail="a_t.jpg",
        sha256="0" * 64,
        original_format="JPEG",
        original_size=1,
        width=200,
        height=150,
    )
    analysis = old.get_model("diagnosis", "Analysis").objects.create(image=image, queued_at=now)
    review = old.get_model("diagnosis", "Review").objects.create(
        analysis=analysis, case=case, reviewer=user, outcome="escalated", signed_off_at=now
    )
    annotation = old.get_model("diagnosis", "Annotation").objects.create(
        image=image, author=user, shape="rectangle", points=[[1, 1], [5, 5]], label="edge"
    )

    new = _migrate(AFTER)
    moved = new.get_model("review", "Review").objects.get(pk=review.pk)
    assert (moved.case_id, moved.analysis_id, moved.outcome) == (case.pk, analysis.pk, "escalated")
    kept = new.get_model("review", "Annotation").objects.get(pk=annotation.pk)
    assert (kept.label, kept.points) == ("edge", [[1, 1], [5, 5]])
    tables = connection.introspection.table_names()
    assert {"review_review", "review_annotation"} <= set(tables)
    assert "diagnosis_review" not in tables

    back = _migrate(BEFORE)
    assert back.get_model("diagnosis", "Review").objects.filter(pk=review.pk).exists()
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
