# aerolake: the project image, used by every Airflow service of docker-compose.yaml and by the mock API.
#
#   docker compose build            # or: docker build -t aerolake-airflow:latest .
#
# Extends the official image as documented in https://airflow.apache.org/docs/docker-stack/build.html.
# The Airflow version of the base image MUST equal the `apache-airflow==` pin of requirements.txt
# (tests/deploy/test_compose.py checks it): bump both together, then `make lock`.
FROM apache/airflow:3.3.2-python3.11

# Build dependencies of mysqlclient (the MySQL provider's driver).
USER root
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        pkg-config \
        default-libmysqlclient-dev \
        build-essential \
    && apt-get autoremove -yqq --purge \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*

USER airflow
WORKDIR /opt/airflow

# requirements.txt is the RUNTIME lock only (no test or dev tool: those are in requirements-dev.txt, never
# installed here); it pins apache-airflow==3.3.2, which must match the base image's Airflow version above,
# and resolves boto3/botocore together with the image's aiobotocore, so `pip check` passes
# (tests/deploy/test_runtime_lock.py). Pinning apache-airflow on the command line as well keeps pip from
# ever replacing the Airflow that ships in the image.
ARG AIRFLOW_VERSION=3.3.2
COPY --chown=airflow:0 requirements.txt /opt/airflow/requirements.txt
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /opt/airflow/requirements.txt

# The project: the `aerolake` package lives in include/aerolake, its SQL inside it (include/aerolake/sql).
# docker-compose.yaml bind-mounts dags/, plugins/ and include/ over these copies for live editing.
COPY --chown=airflow:0 pyproject.toml /opt/airflow/pyproject.toml
COPY --chown=airflow:0 include/ /opt/airflow/include/
COPY --chown=airflow:0 dags/ /opt/airflow/dags/
COPY --chown=airflow:0 plugins/ /opt/airflow/plugins/
RUN pip install --no-cache-dir --no-deps -e /opt/airflow

ENV AIRFLOW__CORE__LOAD_EXAMPLES=False \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/airflow/dags \
    PYTHONPATH=/opt/airflow/include
