# The web service: the production server (`manage.py serve`: uvicorn) serving HTTP
# and WebSockets on port 8000.
# Build context is the repository; .dockerignore keeps .env, .venv, data, the
# tests and the dev-tools app out.
FROM python:3.11-slim

# DEVTOOLS=false: the dev-tools app is not copied in (.dockerignore), so settings
# must not install it even when DEBUG is on (collectstatic below, or a debug run).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DEVTOOLS=false

WORKDIR /app

COPY requirements.txt .
# Optional extras, e.g. boto3 for recordings in a bucket (RECORDINGS_S3_BUCKET):
#   docker compose build --build-arg EXTRA_PIP=boto3
ARG EXTRA_PIP=""
RUN pip install -r requirements.txt $EXTRA_PIP

COPY . .
# Static files for the admin and staff pages, collected at build time. media/ is
# created here so the compose "media" volume mounted on it belongs to voice.
RUN DEBUG=true python manage.py collectstatic --noinput \
    && useradd --system --home-dir /app --shell /usr/sbin/nologin voice \
    && mkdir -p /app/media \
    && chown -R voice /app
USER voice

EXPOSE 8000
# `exec`: the server becomes PID 1 and gets the SIGTERM of `docker stop`, so calls
# in progress end cleanly.
CMD ["sh", "-c", "python manage.py migrate --noinput && exec python manage.py serve --port 8000"]
