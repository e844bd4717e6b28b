# The web service: daphne serving HTTP and WebSockets on port 8000.
# Build context is the repository; .dockerignore keeps .env, .venv and data out.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files for the admin and staff pages, collected at build time.
RUN DEBUG=true python manage.py collectstatic --noinput \
    && useradd --system --home-dir /app --shell /usr/sbin/nologin voice \
    && chown -R voice /app
USER voice

EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --noinput && daphne -b 0.0.0.0 -p 8000 --proxy-headers voiceassistant.asgi:application"]
