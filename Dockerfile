# One image for every component; the command picks the role (docs/deploy.md):
#   web (default)   engagement serve --host 0.0.0.0 --port 8000
#   mail worker     engagement worker --queues transactional
#   campaigns       engagement worker --queues campaigns
#   lists           engagement worker --queues lists
#   scheduler       engagement beat                       (one per deployment)
#   migration       engagement db upgrade                 (a manual step, never at start-up)
# At run time nothing is written outside /tmp: the root filesystem may be read-only.
#
#   docker build -t REGISTRY/engagement:TAG .

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- builder: the virtualenv, the compiled translations and the byte-code ----
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

RUN python -m venv /opt/venv \
 && pip install --upgrade pip setuptools wheel

WORKDIR /app

# The dependencies first, from setup.cfg alone, so that a change of the code reuses this layer.
COPY setup.cfg pyproject.toml ./
RUN python -c "import configparser; c = configparser.ConfigParser(); c.read('setup.cfg'); print(c['options']['install_requires'])" > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt

COPY . .

# The project itself, editable: engagement.PROJECT_ROOT is /app, where workflows/, templates/, static/,
# translations/ and migrations/ live (they are not package data).
RUN pip install --no-deps -e . \
 && pybabel compile --use-fuzzy -d translations -D messages \
 && python -m compileall -q -j 0 --invalidation-mode unchecked-hash /app /opt/venv

# ---- runtime: the virtualenv and the application, run as an unprivileged user ----
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="engagement" \
      org.opencontainers.image.description="A citizen movement's platform: web, Celery workers and beat" \
      org.opencontainers.image.licenses="AGPL-3.0-or-later"

# A fixed numeric id, so that Kubernetes can check runAsNonRoot without reading /etc/passwd.
RUN groupadd --system --gid 10001 engagement \
 && useradd --system --uid 10001 --gid 10001 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin engagement

COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app

# PYTHONDONTWRITEBYTECODE: the byte-code was compiled in the builder; HOME=/tmp: anything that writes under
# $HOME (`engagement serve` puts gunicorn's control socket in /tmp itself, web/serving.py). gunicorn's worker
# heartbeat files go to /dev/shm (memory).
# ENGAGEMENT_INSTANCE_DIR empty: a read-only application, DATABASE_URL and SECRET_KEY come from the environment.
ENV PATH=/opt/venv/bin:$PATH \
    VIRTUAL_ENV=/opt/venv \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    TMPDIR=/tmp \
    GUNICORN_CMD_ARGS="--worker-tmp-dir /dev/shm" \
    ENGAGEMENT_ENV=production \
    ENGAGEMENT_INSTANCE_DIR=""

WORKDIR /app
USER 10001:10001
EXPOSE 8000

# No HEALTHCHECK: the same image runs workers, which serve no HTTP; Kubernetes probes /healthz and /readyz.
ENTRYPOINT ["/opt/venv/bin/engagement"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
