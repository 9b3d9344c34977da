"""The two locks: requirements.txt (runtime, what the image installs) and requirements-dev.txt (dev/test).

The slow test installs the runtime lock beside the image's Airflow in a clean venv and runs ``pip check``,
as the Dockerfile does over the official image: a dev pin (say a botocore that the image's aiobotocore
refuses) can no longer break the image. It needs PyPI (pip's cache makes later runs fast) and the
mysqlclient build dependencies that ``make system`` installs.
"""

from __future__ import annotations

import re
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_IN = ROOT / "requirements.in"
RUNTIME_LOCK = ROOT / "requirements.txt"
DEV_IN = ROOT / "requirements-dev.in"
DEV_LOCK = ROOT / "requirements-dev.txt"
DOCKERFILE = ROOT / "Dockerfile"

DEV_ONLY = ("pytest", "pytest-xdist", "ruff", "playwright", "schemathesis", "moto", "hypothesis",
            "nx-27017", "check-jsonschema")
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*(?P<version>[^\s;#]+)")
NAME = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_lines(path: Path) -> list[str]:
    return [line.split(" #")[0].strip() for line in path.read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def pins(path: Path) -> dict[str, str]:
    """{canonical name: version} of a lock's ``name==version`` lines."""
    out: dict[str, str] = {}
    for line in requirement_lines(path):
        if line.startswith("-"):
            continue
        match = PIN.match(line)
        assert match, f"{path.name}: not a name==version pin: {line!r}"
        key = canonical(match["name"])
        assert key not in out, f"{path.name}: {key} pinned twice"
        out[key] = match["version"]
    return out


def inputs(path: Path) -> dict[str, str | None]:
    """{canonical name: exact version or None} of an ``.in`` file's requirements."""
    out: dict[str, str | None] = {}
    for line in requirement_lines(path):
        if line.startswith("-"):
            continue
        pin = PIN.match(line)
        out[canonical(NAME.match(line)["name"])] = pin["version"] if pin else None
    return out


def image_airflow_version() -> str:
    match = re.search(r"^FROM\s+apache/airflow:(\d+\.\d+\.\d+)", DOCKERFILE.read_text(), re.MULTILINE)
    assert match, "Dockerfile must build FROM apache/airflow:<version>"
    return match[1]


def test_no_dev_tool_in_the_runtime_lock() -> None:
    runtime = pins(RUNTIME_LOCK)
    leaked = sorted(name for name in DEV_ONLY if name in runtime)
    assert not leaked, f"dev-only tools in requirements.txt (the image's lock): {leaked}"
    assert not [name for name in DEV_ONLY if name in inputs(RUNTIME_IN)]


def test_runtime_lock_pins_every_input() -> None:
    runtime = pins(RUNTIME_LOCK)
    for name, version in inputs(RUNTIME_IN).items():
        assert name in runtime, f"{name} (requirements.in) is not pinned in requirements.txt: run `make lock`"
        if version:
            assert runtime[name] == version, f"{name}: requirements.in wants {version}, lock has {runtime[name]}"
    assert runtime["apache-airflow"] == image_airflow_version()
    # the image's amazon provider comes with aiobotocore, which pins botocore: the lock resolves it too
    assert "aiobotocore" in runtime


def test_pyarrow_follows_pymongoarrow() -> None:
    runtime = pins(RUNTIME_LOCK)
    assert (runtime["pymongoarrow"], runtime["pyarrow"]) == ("1.15.0", "25.0.0")


def test_dev_lock_includes_the_runtime_lock() -> None:
    lines = requirement_lines(DEV_LOCK)
    assert lines[0] == "-r requirements.txt", "requirements-dev.txt must start with -r requirements.txt"
    assert "-c requirements.txt" in requirement_lines(DEV_IN), "dev is resolved against the runtime pins"
    dev, runtime = pins(DEV_LOCK), pins(RUNTIME_LOCK)
    twice = sorted(set(dev) & set(runtime))
    assert not twice, f"pinned in both locks (one owner per pin): {twice}"
    missing = sorted(name for name in inputs(DEV_IN) if name not in dev and name not in runtime)
    assert not missing, f"requirements-dev.in entries not in the locks (run `make lock`): {missing}"
    assert [name for name in DEV_ONLY if name in dev] == list(DEV_ONLY)


def run(command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def test_runtime_lock_is_consistent_with_the_image_airflow(tmp_path: Path) -> None:
    """A clean venv with the image's Airflow and the runtime lock passes ``pip check`` (slow: minutes)."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = str(env_dir / "bin" / "python")
    assert sys.version_info[:2] == (3, 11), "the image's Python is 3.11; run the tests with it"
    install = run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                   f"apache-airflow=={image_airflow_version()}", "-r", str(RUNTIME_LOCK)], timeout=3000)
    assert install.returncode == 0, f"pip install of the runtime lock failed:\n{install.stderr[-4000:]}"
    check = run([python, "-m", "pip", "check"], timeout=600)
    assert check.returncode == 0, f"pip check of the runtime lock failed:\n{check.stdout}{check.stderr}"
    frozen = {canonical(m["name"]): m["version"]
              for m in map(PIN.match, run([python, "-m", "pip", "freeze"], timeout=600).stdout.splitlines())
              if m}
    assert frozen["botocore"] == pins(RUNTIME_LOCK)["botocore"]
    assert "aiobotocore" in frozen
    leaked = sorted(name for name in DEV_ONLY if name in frozen)
    assert not leaked, f"the runtime install pulled dev tools: {leaked}"
