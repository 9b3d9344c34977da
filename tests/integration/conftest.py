from __future__ import annotations

import pytest

from aerolake.core.settings import Settings
from aerolake.pipeline.stages import StageContext
from aerolake.stores.lake import Partition
from aerolake.stores.mysql.ledger import RunInfo

DAG_ID = "lufthansa_lakehouse"


@pytest.fixture
def make_ctx(s3, mongo, mysql_cfg):
    """Build a StageContext for a date (and run id) against the test's S3, Mongo, MySQL and a mock API."""

    def build(api, dt: str = "2026-03-01", run_id: str = "run-1", **settings) -> StageContext:
        cfg = Settings(bucket="aerolake-test", mock_api_url=api.base_url if api else "http://127.0.0.1:9",
                       calls_per_second={"lufthansa": 0}, **settings)
        return StageContext(RunInfo(DAG_ID, run_id, Partition("lufthansa", dt)), cfg, s3, mongo, mysql_cfg)

    return build
