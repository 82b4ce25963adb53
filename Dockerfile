# Plantroom: one image for `plantroom serve`, `collect`, `simulate` and `migrate`.
# Built by docker-compose.yml (`build: .`); see .dockerignore for what stays out of the context.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PLANTROOM_DATA_DIR=/app/data

WORKDIR /app

# `plantroom report energy` embeds this TrueType CJK font in its PDF (analytics/reports/pdf.py).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*

# The whole checkout: the package is installed from it, and the commands run from /app so that
# relative paths such as `--site config/sites/demo` and alembic.ini resolve.
COPY . .

# URLLIB3_NO_OVERRIDE + building urllib3-future from source: grafana-client's HTTP stack then
# lives beside the genuine urllib3 instead of replacing it (see run.py and pyproject.toml).
RUN URLLIB3_NO_OVERRIDE=1 pip install --no-cache-dir --no-binary urllib3-future . \
    && rm -rf build ./*.egg-info \
    && useradd --system --uid 10001 --user-group --home-dir /app --no-create-home plantroom \
    && mkdir -p /app/data \
    && chown plantroom:plantroom /app/data

# Named volumes mounted on /app/data start out owned by this user (copied from the image).
USER plantroom

EXPOSE 8080

CMD ["plantroom", "serve", "--host", "0.0.0.0", "--port", "8080"]
