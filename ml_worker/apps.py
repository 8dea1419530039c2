from django.apps import AppConfig


class MlWorkerConfig(AppConfig):
    """Installed so that Celery's autodiscovery finds ml_worker/tasks.py.

    Only tasks.py may touch Django; ml_worker.inference stays free of it.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "ml_worker"
    verbose_name = "Skin-analysis worker"
