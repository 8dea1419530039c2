"""Review and Annotation move to the review app (review/migrations/0001_initial.py).

State only: the tables stay where they are, so no row is copied or lost. The review app takes
the same tables over in its first migration and renames them in its second. A database that
has run every migration up to here needs nothing else; see the README's migration plan.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('diagnosis', '0007_case_title_patient_seen_review_at'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='review',
                    name='analysis',
                ),
                migrations.RemoveField(
                    model_name='review',
                    name='case',
                ),
                migrations.RemoveField(
                    model_name='review',
                    name='diagnosis',
                ),
                migrations.RemoveField(
                    model_name='review',
                    name='reviewer',
                ),
                migrations.DeleteModel(
                    name='Annotation',
                ),
                migrations.DeleteModel(
                    name='Review',
                ),
    ]
        ),
    ]
