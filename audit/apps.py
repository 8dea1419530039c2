from django.apps import AppConfig


class AuditConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "audit"
    verbose_name = "Audit log and case history"

    def ready(self) -> None:
        # Sign-ins and sign-outs go into the audit log (Django's own auth signals).
        from audit import signals  # noqa: F401
