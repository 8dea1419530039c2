"""Cases get a title the patient chooses, and remember when the patient last read a review.

Existing cases are given the default title new ones get (body site and opening date), so
My cases never shows a blank one.
"""

from typing import Any

from django.db import migrations, models
from django.utils import timezone


def default_titles(apps: Any, schema_editor: Any) -> None:
    Case = apps.get_model("diagnosis", "Case")
    labels = dict(Case._meta.get_field("body_site").choices)
    for case in Case.objects.filter(title="").only("id", "body_site", "created_at"):
        day = timezone.localdate(case.created_at)
        case.title = f"{labels.get(case.body_site, case.body_site)}, {day.day} {day:%b %Y}"
        case.save(update_fields=["title"])


class Migration(migrations.Migration):
    dependencies = [
        ("diagnosis", "0006_lesionimage_removed_hidden"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="title",
            field=models.CharField(blank=True, max_length=120),
        ),
        migrations.AddField(
            model_name="case",
            name="patient_seen_review_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(default_titles, migrations.RunPython.noop),
    ]
