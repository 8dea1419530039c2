"""`Review.flagged_at`: when the reviewed analysis entered the queue, for the dashboard.

Filled for existing reviews from their analysis' first flag, as the turnaround read it."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):  # type: ignore[no-untyped-def]
    Review = apps.get_model("review", "Review")
    Flag = apps.get_model("diagnosis", "Flag")
    first = Flag.objects.filter(analysis=OuterRef("analysis")).order_by("created_at")
    Review.objects.update(flagged_at=Subquery(first.values("created_at")[:1]))


class Migration(migrations.Migration):

    dependencies = [
        ("review", "0002_tables_renamed"),
        ("diagnosis", "0009_analysis_review_rank"),
    ]

    operations = [
        migrations.AddField(
            model_name="review",
            name="flagged_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="review",
            index=models.Index(
                fields=["outcome", "signed_off_at"],
                include=("flagged_at", "model_code", "agrees_with_model"),
                name="review_by_outcome_time",
            ),
        ),
    ]
