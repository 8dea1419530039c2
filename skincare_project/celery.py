"""The Celery app shared by the web process and the workers (cookiecutter-django's shape)."""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skincare_project.settings")

app = Celery("skincare_project")
# Every CELERY_* setting in settings.py configures this app (CELERY_BROKER_URL -> broker_url).
app.config_from_object("django.conf:settings", namespace="CELERY")
# Finds <app>/tasks.py in every installed app, e.g. ml_worker/tasks.py.
app.autodiscover_tasks()


@app.on_after_configure.connect
def make_filesystem_broker_folders(sender: Celery, **kwargs: object) -> None:
    """Kombu's filesystem transport expects its folders to exist; settings make none on import.

    Celery reads its configuration lazily, on the first task sent or when a worker starts, so
    this runs in both the web process and the worker before either touches the broker.
    """
    if not str(sender.conf.broker_url).startswith("filesystem://"):
        return
    options = sender.conf.broker_transport_options
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if key in options:
            Path(options[key]).mkdir(parents=True, exist_ok=True)


@app.on_after_finalize.connect
def register_every_apps_tasks(sender: Celery, **kwargs: object) -> None:
    """Import every app's tasks.py when the app is first used, in the web process too.

    The worker imports them at start; the web process used to import ml_worker.tasks only to
    send analyze_image. diagnosis now sends it by name (diagnosis.services.ANALYZE_IMAGE_TASK,
    as it sits below ml_worker.tasks), and that name must lead to the registered task, so its
    options apply and task_always_eager runs it in tests. Before Django's apps are ready (a
    worker starting up), the worker's own autodiscovery does it.
    """
    from django.apps import apps

    if apps.ready:
        sender.autodiscover_tasks(force=True)
