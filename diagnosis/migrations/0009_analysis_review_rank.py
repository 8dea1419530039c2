"""The review queue as an index: `Analysis.review_rank` and the case columns its filters read.

Existing rows are filled from what they already say: the rank from their flags and status
(AnalysisQuerySet.in_queue_by_flags), the body site and opening date from their case. The
(priority, created_at) index, which no queue read used, gives way to the queue's partial one.
"""

from django.db import migrations, models
from django.db.models import Exists, OuterRef, Q, Subquery

RANKS = {"urgent": 3, "soon": 2, "routine": 1}
FINISHED = ("done", "rejected", "failed")


def fill(apps, schema_editor):  # type: ignore[no-untyped-def]
    Analysis = apps.get_model("diagnosis", "Analysis")
    Case = apps.get_model("diagnosis", "Case")
    Flag = apps.get_model("diagnosis", "Flag")
    case = Case.objects.filter(images__analyses=OuterRef("pk"))
    Analysis.objects.update(
        body_site=Subquery(case.values("body_site")[:1]),
        case_opened_at=Subquery(case.values("created_at")[:1]),
    )
    open_flags = Flag.objects.filter(analysis=OuterRef("pk"), resolved_at__isnull=True)
    waiting = Analysis.objects.filter(
        Exists(open_flags), status__in=FINISHED, image__removed_at__isnull=True
    )
    rank = models.Case(
        *(models.When(priority=p, then=models.Value(r)) for p, r in RANKS.items()),
        default=models.Value(0),
    )
    Analysis.objects.filter(pk__in=waiting.values("pk")).update(review_rank=rank)


class Migration(migrations.Migration):

    dependencies = [
        ("diagnosis", "0008_review_models_to_review_app"),
    ]

    operations = [
        migrations.AddField(
            model_name="analysis",
            name="review_rank",
            field=models.PositiveSmallIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="analysis",
            name="body_site",
            field=models.CharField(default="unknown", editable=False, max_length=24),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="analysis",
            name="case_opened_at",
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="analysis",
            name="body_site",
            field=models.CharField(
                choices=[
                    ("scalp", "Scalp"), ("face", "Face"), ("ear", "Ear"), ("neck", "Neck"),
                    ("chest", "Chest"), ("abdomen", "Abdomen"), ("back", "Back"),
                    ("trunk", "Trunk (other)"), ("upper extremity", "Arm or shoulder"),
                    ("hand", "Hand"), ("lower extremity", "Leg or hip"), ("foot", "Foot"),
                    ("acral", "Palm, sole or nail"), ("genital", "Genital area"),
                    ("unknown", "Somewhere else / not sure"),
                ],
                editable=False, max_length=24,
            ),
        ),
        migrations.AlterField(
            model_name="analysis",
            name="case_opened_at",
            field=models.DateTimeField(editable=False),
        ),
        migrations.RemoveIndex(
            model_name="analysis",
            name="diagnosis_a_priorit_243789_idx",
        ),
        migrations.AddIndex(
            model_name="analysis",
            index=models.Index(
                condition=models.Q(("review_rank__isnull", False)),
                fields=["-review_rank", "created_at", "id"],
                include=(
                    "priority", "predicted_code", "is_unknown", "confidence", "body_site",
                    "case_opened_at", "claimed_by", "claim_expires_at",
                ),
                name="analysis_review_queue",
            ),
        ),
        migrations.AddIndex(
            model_name="flag",
            index=models.Index(
                condition=models.Q(("resolved_at__isnull", True)),
                fields=["kind", "analysis"],
                name="flag_open_by_kind",
            ),
        ),
    ]
