"""A source's request budget: its plan's (``SPEC.budget``), each half overridden by the environment, or the one
the settings name."""

from __future__ import annotations

import pytest

from aerolake.core.settings import Budget, Settings
from aerolake.sources import budget_of


def test_the_plans_budget_by_default(monkeypatch) -> None:
    for name in ("AIRLABS", "AVIATIONSTACK", "LUFTHANSA"):
        for half in ("DAY", "MONTH"):
            monkeypatch.delenv(f"AEROLAKE_{name}_BUDGET_PER_{half}", raising=False)
    assert budget_of(Settings(), "airlabs") == Budget(per_day=None, per_month=1000)
    assert budget_of(Settings(), "aviationstack") == Budget(per_day=None, per_month=100)
    assert budget_of(Settings(), "lufthansa") == Budget()


def test_the_environment_overrides_each_half(monkeypatch) -> None:
    monkeypatch.setenv("AEROLAKE_AIRLABS_BUDGET_PER_DAY", "40")
    monkeypatch.delenv("AEROLAKE_AIRLABS_BUDGET_PER_MONTH", raising=False)
    assert budget_of(Settings(), "airlabs") == Budget(per_day=40, per_month=1000)
    monkeypatch.setenv("AEROLAKE_AIRLABS_BUDGET_PER_MONTH", "")  # empty: no limit
    assert budget_of(Settings(), "airlabs") == Budget(per_day=40, per_month=None)
    monkeypatch.setenv("AEROLAKE_AIRLABS_BUDGET_PER_MONTH", "-1")
    with pytest.raises(ValueError, match="AEROLAKE_AIRLABS_BUDGET_PER_MONTH must not be negative"):
        budget_of(Settings(), "airlabs")


def test_the_settings_budget_wins(monkeypatch) -> None:
    monkeypatch.setenv("AEROLAKE_AVIATIONSTACK_BUDGET_PER_DAY", "3")
    assert budget_of(Settings(budgets={"aviationstack": Budget(per_day=7)}), "aviationstack") == Budget(per_day=7)


def test_an_unknown_source_has_no_budget_to_give() -> None:
    with pytest.raises(ValueError, match="unknown source 'opensky'"):
        budget_of(Settings(), "opensky")
