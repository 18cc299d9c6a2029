"""A local run reports what it would have cost in the cloud, before the team goes there."""

from __future__ import annotations

import pytest

from pipelines.finops.prices import load_prices


def test_the_local_summary_prices_each_job_step_it_ran(first_run):
    _, run = first_run
    cost = run.summary["cost"]
    prices = load_prices()
    steps = {s["name"]: s for s in run.summary["steps"]}
    assert {row["step"] for row in cost["steps"]} == {"Preprocess", "DataQualityCheck", "Train", "Evaluate"}
    for row in cost["steps"]:
        usage = "training" if row["step"] == "Train" else "processing"
        expected = steps[row["step"]]["duration_seconds"] / 3600 * prices.hourly(cost["region"], usage,
                                                                                 row["instance_type"])
        assert row["on_demand_usd"] == pytest.approx(expected, abs=1e-6)
    assert cost["with_spot_usd"] < cost["on_demand_usd"]  # training runs on Spot
    line = next(line for line in run.stdout.splitlines() if line.startswith("cost: "))
    assert f"would have cost {cost['on_demand_usd']:.4f} USD on-demand" in line
