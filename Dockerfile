# One image for the web app (gunicorn) and the Celery worker; see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# libglib2.0-0 is needed by OpenCV's wheels.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files are collected into the image; WhiteNoise serves them.
RUN python manage.py collectstatic --noinput -v 0

RUN useradd --create-home --uid 1000 app \
    && mkdir -p /data/private_media \
    && chown -R app:app /data /app/var
USER app

EXPOSE 8000
CMD ["gunicorn", "skincare_project.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
