"""The Celery app shared by the web process and the workers (cookiecutter-django's shape)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skincare_project.settings")

app = Celery("skincare_project")
# Every CELERY_* setting in settings.py configures this app (CELERY_BROKER_URL -> broker_url).
app.config_from_object("django.conf:settings", namespace="CELERY")
# Finds <app>/tasks.py in every installed app, e.g. ml_worker/tasks.py.
app.autodiscover_tasks()
