"""The review app's tables get its own names (diagnosis_review -> review_review, and the same
for annotations), and the admin's content types and permissions follow the models, so a
dermatologist group's permissions keep working. Rows, keys and foreign keys are untouched: a
table rename in PostgreSQL and SQLite keeps them.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

MODELS = ["review", "annotation"]


def content_types_follow(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="diagnosis", model__in=MODELS).update(app_label="review")


def content_types_go_back(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="review", model__in=MODELS).update(app_label="diagnosis")


class Migration(migrations.Migration):

    dependencies = [
        ('review', '0001_initial'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.RenameIndex(
            model_name='review',
            new_name='review_revi_case_id_90c195_idx',
            old_name='diagnosis_r_case_id_c26e70_idx',
        ),
        migrations.AlterModelTable(
            name='annotation',
            table=None,
        ),
        migrations.AlterModelTable(
            name='review',
            table=None,
        ),
        migrations.RunPython(content_types_follow, content_types_go_back),
    ]
