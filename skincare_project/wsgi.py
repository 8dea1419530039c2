import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skincare_project.settings")

application = get_wsgi_application()

from django.conf import settings  # noqa: E402  (settings are only usable after setup)

# The development key is a convenience for tests and `make run`; a production web process
# must never start with it, because anyone could forge sessions and password-reset links.
if not settings.DEBUG and (
    settings.SECRET_KEY == settings.DEVELOPMENT_SECRET_KEY
    or settings.SECRET_KEY.startswith("change-me")
):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Set SECRET_KEY in the environment (see .env.example).")
