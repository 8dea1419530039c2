"""The review app takes over diagnosis's Review and Annotation tables.

State only, like diagnosis 0008 that gives them up: no row is copied. 0002 renames the tables.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('diagnosis', '0008_review_models_to_review_app'),
        ('knowledge', '0002_seed_diseases'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables exist already (diagnosis 0001-0007): take them over as they are.
            state_operations=[
                migrations.CreateModel(
                    name='Annotation',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('shape', models.CharField(choices=[('rectangle', 'Rectangle'), ('polygon', 'Polygon')], max_length=10)),
                        ('points', models.JSONField(help_text="[[x, y], ...] in the stored image's pixels.")),
                        ('label', models.CharField(max_length=80)),
                        ('comment', models.TextField(blank=True, max_length=2000)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('author', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='annotations', to=settings.AUTH_USER_MODEL)),
                        ('image', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='annotations', to='diagnosis.lesionimage')),
                    ],
                    options={
                        'db_table': 'diagnosis_annotation',
                        'ordering': ['created_at', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='Review',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('outcome', models.CharField(choices=[('signed_off', 'Signed off'), ('escalated', 'Escalated for a second opinion'), ('retake_requested', 'New photo requested')], max_length=20)),
                        ('is_second_opinion', models.BooleanField(default=False, help_text='Given after another dermatologist escalated the analysis.')),
                        ('verdict', models.CharField(blank=True, choices=[('agree', 'Agree with the model'), ('correct', 'Correct the diagnosis')], max_length=8)),
                        ('diagnosis_text', models.CharField(blank=True, help_text='A diagnosis the knowledge base does not have.', max_length=200)),
                        ('recommendation', models.CharField(blank=True, choices=[('self_care', 'Self-care; no visit needed'), ('see_doctor_within_days', 'See a doctor in person within N days'), ('urgent_referral', 'Urgent referral'), ('biopsy', 'Biopsy')], max_length=24)),
                        ('follow_up_days', models.PositiveSmallIntegerField(blank=True, help_text="With 'see a doctor within N days': N.", null=True)),
                        ('message_to_patient', models.TextField(blank=True, max_length=4000)),
                        ('self_care_override', models.BooleanField(default=False, help_text='Self-care confirmed although the diagnosis is malignant or pre-malignant.')),
                        ('override_reason', models.TextField(blank=True, help_text='Why self-care is right despite the diagnosis.', max_length=2000)),
                        ('internal_note', models.TextField(blank=True, help_text='For colleagues only (e.g. why it was escalated); never shown to the patient.', max_length=4000)),
                        ('model_code', models.CharField(blank=True, max_length=16)),
                        ('model_confidence', models.FloatField(blank=True, null=True)),
                        ('model_version', models.CharField(blank=True, max_length=40)),
                        ('agrees_with_model', models.BooleanField(blank=True, help_text="Only for sign-offs: same code as the model's answer.", null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('signed_off_at', models.DateTimeField()),
                        ('analysis', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='reviews', to='diagnosis.analysis')),
                        ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='reviews', to='diagnosis.case')),
                        ('diagnosis', models.ForeignKey(blank=True, help_text='A knowledge-base entry; or leave empty and use the free text.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='knowledge.disease')),
                        ('reviewer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reviews', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'diagnosis_review',
                        'ordering': ['signed_off_at', 'id'],
                        'indexes': [models.Index(fields=['case', 'signed_off_at'], name='diagnosis_r_case_id_c26e70_idx')],
                        'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('outcome', 'signed_off'), _negated=True), models.Q(models.Q(('verdict', ''), _negated=True), models.Q(('recommendation', ''), _negated=True), models.Q(('diagnosis__isnull', False), models.Q(('diagnosis_text', ''), _negated=True), _connector='OR')), _connector='OR'), name='diagnosis_review_signed_off_complete'), models.CheckConstraint(condition=models.Q(models.Q(('follow_up_days__gte', 1), ('follow_up_days__isnull', False), ('recommendation', 'see_doctor_within_days')), models.Q(models.Q(('recommendation', 'see_doctor_within_days'), _negated=True), ('follow_up_days__isnull', True)), _connector='OR'), name='diagnosis_review_follow_up_days'), models.CheckConstraint(condition=models.Q(('self_care_override', False), models.Q(('recommendation', 'self_care'), models.Q(('override_reason', ''), _negated=True)), _connector='OR'), name='diagnosis_review_override_has_reason'), models.UniqueConstraint(condition=models.Q(('outcome', 'signed_off')), fields=('analysis',), name='diagnosis_review_one_sign_off')],
                    },
                ),
    ],
        ),
    ]
