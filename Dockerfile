# Scrutineer as a hosted service: `scrutineer serve` (HTTP mode) on a slim Python base,
# as a non-root user, checked by its own /healthz. Build: docker build -t scrutineer .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    HOST=0.0.0.0 PORT=3000

WORKDIR /app
COPY pyproject.toml README.md manifest.yml ./
COPY bot ./bot
COPY handlers ./handlers
COPY models ./models
RUN pip install . && useradd --create-home --uid 10001 scrutineer

USER scrutineer
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"3000\")}/healthz', timeout=2)"
CMD ["scrutineer", "serve"]
