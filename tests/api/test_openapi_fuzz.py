"""schemathesis over the published OpenAPI schema: generated requests (valid and invalid) never get a 5xx,
and every answer has a documented status and matches the documented response schema.

The schema is the app's own ``/openapi.json`` (it does not depend on settings); the requests go over HTTP to
the app served by uvicorn against the seeded test database, the moto S3 server and the Airflow stub.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from aerolake.api import ApiSettings, create_app
from aerolake.api.server import ServerThread

from .conftest import TOKEN

schema = schemathesis.openapi.from_dict(create_app(ApiSettings()).openapi())


@pytest.fixture(scope="module")
def served(seeded_db, airflow_stub, s3_endpoint):
    from aerolake.core.settings import Settings

    from .conftest import AIRFLOW_PASSWORD, AIRFLOW_USER

    # The real token and no practical rate limit: generated run_data_import calls reach the Airflow stub.
    settings = ApiSettings(base=Settings(bucket="aerolake-api-test", s3_endpoint=s3_endpoint), mysql=seeded_db,
                           token=TOKEN, airflow_api_url=airflow_stub[1], airflow_username=AIRFLOW_USER,
                           airflow_password=AIRFLOW_PASSWORD, import_rate_limit=1_000_000)
    with ServerThread(create_app(settings)) as server:
        yield server.base_url


@schema.parametrize()
@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case, served: str) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"} if case.path == "/run_data_import" else None
    response = case.call(base_url=served, headers=headers)
    case.validate_response(response, checks=[not_a_server_error, status_code_conformance,
                                             response_schema_conformance])
    assert response.status_code < 500, (case.path, response.status_code, response.text)
