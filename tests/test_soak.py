"""The short soak: ``make demo``'s own launcher under chaos (publishes through the admin form,
Kollus callbacks with repeats, API outages, killed workers) loses nothing. The full run, on
SQLite and PostgreSQL for minutes, is ``make bench ONLY=soak`` (``benchmarks/soak.py``)."""

from __future__ import annotations

import json
import os

import pytest

from benchmarks.soak import ZERO_METRICS, SoakPlan, soak

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("soak")]


def test_short_soak_loses_nothing():
    # The database the suite runs on: the nox "postgres" session sets DATABASE_URL.
    db = "postgres" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    details: dict = {}
    results = soak(db, SoakPlan.short(), report=details)
    plan = SoakPlan.short()
    # The chaos really happened (a soak that did nothing proves nothing).
    assert results[f"soak_publishes_{db}"] >= plan.min_publishes, results
    assert results[f"soak_callbacks_{db}"] >= plan.min_callbacks, results
    assert results[f"soak_kills_{db}"] >= plan.min_kills, results
    not_zero = {m: results[f"soak_{m}_{db}"] for m in ZERO_METRICS if results[f"soak_{m}_{db}"]}
    assert not not_zero, (
        f"{not_zero}\n{json.dumps(results)}\n"
        + json.dumps({k: v for k, v in details.items() if k != "log_tail"}, default=str)[:4000]
        + "\n" + details["log_tail"]
    )
