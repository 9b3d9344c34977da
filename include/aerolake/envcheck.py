"""Refuse a deployment environment that still holds placeholders: ``python -m aerolake.envcheck``.

docker-compose's ``airflow-init`` runs it before anything else (so ``docker compose up`` stops there, with
the reason), and it can check a ``.env`` before that: ``python -m aerolake.envcheck --env-file .env``.

Two rules:

- ``AIRFLOW__CORE__FERNET_KEY`` must be a real Fernet key (comma-separated keys for rotation: each one).
  A placeholder passes every ``${VAR:?}`` check of compose, yet every connection or variable created in the
  UI then fails to encrypt.
- No value may still be a placeholder of ``.env.example`` (``change-me``, ``change-me-too``, ``<...>``):
  neither a variable itself, nor a string inside an ``AIRFLOW_CONN_*`` JSON value, nor the password of a URL
  (``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN``).

Messages name the variable (and the field) and what to do; they never print a value.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

FERNET_KEY_VAR = "AIRFLOW__CORE__FERNET_KEY"
GENERATE_FERNET = 'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
GENERATE_SECRET = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'  # noqa: S105 (a command, not a secret)
PLACEHOLDER = re.compile(r"^\s*(change-?me\b.*|<[^>]*>)\s*$", re.IGNORECASE)


def is_placeholder(value: str) -> bool:
    """True for the ``.env.example`` placeholders (``change-me``, ``change-me-too``, ``<your key>``)."""
    return bool(PLACEHOLDER.match(value))


def fernet_key_problem(value: str | None) -> str | None:
    """Why ``value`` is not a usable ``AIRFLOW__CORE__FERNET_KEY``, or None when every key in it is valid."""
    from cryptography.fernet import Fernet

    keys = [key.strip() for key in (value or "").split(",") if key.strip()]
    if not keys:
        return f"{FERNET_KEY_VAR} is not set"
    for position, key in enumerate(keys, 1):
        try:
            Fernet(key.encode())
        except ValueError:
            which = "" if len(keys) == 1 else f" (key {position} of {len(keys)})"
            return (f"{FERNET_KEY_VAR}{which} is not a valid Fernet key (32 url-safe base64-encoded bytes)")
    return None


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(field path, string) of every string inside a parsed JSON value."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def placeholder_fields(name: str, value: str) -> list[str]:
    """Where ``value`` (of variable ``name``) still holds a placeholder: ``NAME``, ``NAME.password``, ..."""
    found = [name] if is_placeholder(value) else []
    text = value.strip()
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        found += [f"{name}.{field}" for field, item in _strings(parsed, "") if is_placeholder(item)]
    elif "://" in text:
        try:
            password = urlsplit(text).password
        except ValueError:
            password = None
        if password is not None and is_placeholder(unquote(password)):
            found.append(f"{name} (the password in the URL)")
    return found


def problems(env: Mapping[str, str]) -> list[str]:
    """Every reason ``env`` (a container's environment or a parsed ``.env``) is not fit to deploy."""
    out = []
    fernet = fernet_key_problem(env.get(FERNET_KEY_VAR))
    if fernet:
        out.append(f"{fernet}; generate one with: {GENERATE_FERNET}")
    for name in sorted(env):
        if name == FERNET_KEY_VAR and fernet:
            continue  # already said, with the command that fixes it
        for where in placeholder_fields(name, env[name]):
            out.append(f"{where} is still a placeholder: set a real value in .env "
                       f"(a random secret: {GENERATE_SECRET})")
    return out


def parse_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines of a ``.env`` (comments and blank lines skipped, one level of quotes removed)."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"{path}:{number}: not KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aerolake.envcheck", description=__doc__.splitlines()[0])
    parser.add_argument("--env-file", type=Path, help="check this .env instead of the process environment")
    args = parser.parse_args(argv)
    env = parse_env_file(args.env_file) if args.env_file else dict(os.environ)
    found = problems(env)
    where = str(args.env_file) if args.env_file else "the environment"
    if found:
        print(f"aerolake envcheck: {len(found)} problem(s) in {where}:", file=sys.stderr)
        for problem in found:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(f"aerolake envcheck: {where} has a valid Fernet key and no placeholder left")
    return 0


if __name__ == "__main__":
    sys.exit(main())
