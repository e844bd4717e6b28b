# The web service: the production server (`manage.py serve`: uvicorn) serving HTTP
# and WebSockets on port 8000.
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
# `exec`: the server becomes PID 1 and gets the SIGTERM of `docker stop`, so calls
# in progress end cleanly (README, Ending calls from outside).
CMD ["sh", "-c", "python manage.py migrate --noinput && exec python manage.py serve --port 8000"]
