# syntax=docker/dockerfile:1

# Build the wheel. The migrations ship inside it: app/migrations links to alembic/.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY alembic ./alembic
COPY app ./app
RUN pip wheel --no-deps --wheel-dir /wheels .

# Run it: the wheel without the `embedded` extra (deployments set TENON_DATABASE_URL), as
# an unprivileged user whose only writable folders are the data dir and /tmp. The local
# media store lives in {data dir}/media, made here so a volume mounted there (compose)
# starts out owned by that user.
FROM python:3.11-slim AS runtime
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# tini forwards signals and reaps children.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --user-group --uid 10001 --home-dir /var/lib/tenon \
        --shell /usr/sbin/nologin tenon \
    && install --directory --owner=tenon --group=tenon --mode=0750 \
        /var/lib/tenon /var/lib/tenon/media
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    python -m venv /opt/venv \
    && /opt/venv/bin/pip install /wheels/tenon-*.whl
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    TENON_ENV=production \
    TENON_DATA_DIR=/var/lib/tenon \
    TENON_JOBS_HEARTBEAT_FILE=/tmp/tenon-worker.heartbeat
WORKDIR /var/lib/tenon
USER tenon:tenon
EXPOSE 8000
# Liveness of the API, the default command (a worker container checks itself with
# `tenon worker --check` instead). Readiness, which needs the database, is /health/ready.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
ENTRYPOINT ["tini", "--"]
CMD ["tenon", "serve", "--host", "0.0.0.0", "--port", "8000"]
