# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
RUN python -m venv /opt/venv && /opt/venv/bin/pip install .

FROM python:3.11-slim
# tini forwards signals and reaps children.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 tenon
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv/tenon
COPY alembic.ini ./
COPY alembic ./alembic
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 TENON_ENV=production
USER tenon
EXPOSE 8000
ENTRYPOINT ["tini", "--"]
CMD ["tenon", "serve", "--host", "0.0.0.0", "--port", "8000"]
