# The clearinghouse image: the official Airflow image plus the project and its pinned dependencies.
FROM apache/airflow:3.3.2-python3.11

USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
USER airflow

WORKDIR /opt/clearinghouse
# Bytecode compiled at build time: each Airflow task is a new process that would otherwise compile Great
# Expectations, pandas and the project from source (about 4 CPU-seconds a task).
ENV UV_COMPILE_BYTECODE=1
COPY --chown=airflow:root requirements.lock pyproject.toml ./
RUN pip install --no-cache-dir uv \
 && uv pip install --no-cache --python "$(command -v python)" -r requirements.lock
COPY --chown=airflow:root foundation ./foundation
COPY --chown=airflow:root clearinghouse ./clearinghouse
COPY --chown=airflow:root extractors ./extractors
COPY --chown=airflow:root transforms ./transforms
COPY --chown=airflow:root warehouse ./warehouse
COPY --chown=airflow:root sources ./sources
COPY --chown=airflow:root regions ./regions
COPY --chown=airflow:root fellowships ./fellowships
COPY --chown=airflow:root deploy/airflow-init.sh ./deploy/airflow-init.sh
COPY --chown=airflow:root dags /opt/airflow/dags
RUN uv pip install --no-cache --python "$(command -v python)" --no-deps -e . \
 && python -m compileall -q foundation clearinghouse extractors transforms warehouse /opt/airflow/dags

ENV CLEARINGHOUSE_HOME=/opt/clearinghouse/data \
    CLEARINGHOUSE_SOURCES=/opt/clearinghouse/sources \
    CLEARINGHOUSE_REGIONS=/opt/clearinghouse/regions
