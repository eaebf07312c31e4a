# syntax=docker/dockerfile:1
# One image for the five services; the command chooses one: `python -m stopclock_<service>`
# (docker-compose.yml and deploy/k8s set it). Build: docker build -t stopclock:dev .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PATH=/opt/venv/bin:$PATH
WORKDIR /src
RUN python -m venv /opt/venv
# Runtime pins only: test, lint and stack tools are in requirements-dev.txt, never copied here.
COPY requirements.txt ./
RUN pip install -r requirements.txt
COPY shared ./shared
COPY services ./services
# Built (not editable) packages: stopclock_shared.testing is left out (shared/pyproject.toml),
# and the local stack supervisor lives in devstack/, outside the build context.
RUN pip install --no-deps --no-build-isolation \
        ./shared ./services/ticket ./services/sla ./services/notification \
        ./services/escalation ./services/survey

FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    STOPCLOCK_SERVICE_PORT=8000
RUN groupadd --system --gid 10001 stopclock \
    && useradd --system --uid 10001 --gid stopclock --home-dir /app --no-create-home stopclock
COPY --from=build /opt/venv /opt/venv
# Alembic migrations live beside the packages (services/<name>/migrations), not inside them.
COPY --from=build /src/services /app/services
WORKDIR /app
# Numeric, so Kubernetes can verify runAsNonRoot without resolving the name.
USER 10001:10001
EXPOSE 8000 8001 8002 8003 8004 2525
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['STOPCLOCK_SERVICE_PORT'] + '/healthz', timeout=2)"]
CMD ["python", "-m", "stopclock_ticket"]
