"""aerolake.envcheck, which airflow-init runs first: the .env.example values are refused (a placeholder
Fernet key, every change-me), generated values accepted, in a .env and in the container's environment."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet
from test_compose import COMPOSE_FILE, ENV_EXAMPLE, env_of, substitute

from aerolake.envcheck import GENERATE_FERNET, main, parse_env_file, problems

PLACEHOLDER_KEYS = sorted(k for k, v in parse_env_file(ENV_EXAMPLE).items() if v.lower().startswith("change-me"))


def generated_env() -> dict[str, str]:
    """.env.example with every placeholder replaced the way its comments say."""
    env = parse_env_file(ENV_EXAMPLE)
    for key in PLACEHOLDER_KEYS:
        env[key] = secrets.token_urlsafe(24)
    env["AIRFLOW__CORE__FERNET_KEY"] = Fernet.generate_key().decode()
    return env


def init_environment(dotenv: dict[str, str]) -> dict[str, str]:
    """The environment compose gives airflow-init for this .env."""
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    return {k: substitute(v, dotenv) for k, v in env_of(compose["services"]["airflow-init"]).items()}


def test_env_example_is_refused() -> None:
    found = problems(parse_env_file(ENV_EXAMPLE))
    assert found[0].startswith("AIRFLOW__CORE__FERNET_KEY is not a valid Fernet key")
    assert GENERATE_FERNET in found[0], "the message says how to generate one"
    assert {"_AIRFLOW_WWW_USER_PASSWORD", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY",
            "POSTGRES_PASSWORD", "MYSQL_PASSWORD", "MINIO_ROOT_PASSWORD", "AEROLAKE_API_TOKEN"} <= set(PLACEHOLDER_KEYS)
    for key in PLACEHOLDER_KEYS:
        if key != "AIRFLOW__CORE__FERNET_KEY":
            assert any(p.startswith(f"{key} is still a placeholder") for p in found), key


def test_generated_values_are_accepted() -> None:
    assert problems(generated_env()) == []


def test_the_container_environment_is_checked_through_urls_and_connections() -> None:
    found = problems(init_environment(parse_env_file(ENV_EXAMPLE)))
    joined = "\n".join(found)
    assert "AIRFLOW__CORE__FERNET_KEY is not a valid Fernet key" in joined
    assert "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN (the password in the URL) is still a placeholder" in joined
    assert "AIRFLOW_CONN_AEROLAKE_MYSQL.password is still a placeholder" in joined
    assert "AIRFLOW_CONN_LUFTHANSA_API.login is still a placeholder" in joined
    assert "AIRFLOW_CONN_AEROLAKE_S3.password is still a placeholder" in joined
    assert "MYSQL_ROOT_PASSWORD is still a placeholder" in joined
    assert problems(init_environment(generated_env())) == []


# fixed values: a random parameter would differ between pytest-xdist workers
@pytest.mark.parametrize("value", ["", "change-me", "not-a-fernet-key", "A" * 40, "A" * 42 + "="])
def test_bad_fernet_keys(value: str) -> None:
    assert problems({"AIRFLOW__CORE__FERNET_KEY": value})


def test_rotated_fernet_keys() -> None:
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    assert problems({"AIRFLOW__CORE__FERNET_KEY": f"{new},{old}"}) == []
    found = problems({"AIRFLOW__CORE__FERNET_KEY": f"{new},change-me"})
    assert found and "(key 2 of 2)" in found[0]


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.env"
    bad.write_text("AIRFLOW__CORE__FERNET_KEY=short-SECRETVALUE\nMYSQL_PASSWORD=change-me\n")
    assert main(["--env-file", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "2 problem(s)" in err and "MYSQL_PASSWORD is still a placeholder" in err
    assert "SECRETVALUE" not in err, "never print a value"
    good = tmp_path / "good.env"
    good.write_text("".join(f"{k}={v}\n" for k, v in generated_env().items()))
    assert main(["--env-file", str(good)]) == 0
