# copbot: a slim Python 3.11 image; the same install steps as `make run` (venv + pip install -e).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data \
    SEED_FILE=/app/data/seed.csv \
    BIND_HOST=0.0.0.0 \
    PATH=/app/.venv/bin:$PATH

RUN useradd --create-home --uid 10001 copbot
WORKDIR /app
COPY pyproject.toml README.md Makefile ./
COPY bot ./bot
COPY commands ./commands
COPY storage ./storage
COPY data/seed.csv ./data/seed.csv
RUN python -m venv /app/.venv \
    && /app/.venv/bin/python -m pip install --quiet --upgrade pip \
    && /app/.venv/bin/python -m pip install --quiet -e . \
    && mkdir -p /data && chown copbot:copbot /data

USER copbot
VOLUME ["/data"]
EXPOSE 3000 9100
ENTRYPOINT ["/app/.venv/bin/copbot"]
CMD ["run"]
