"""A local run reports what it would have cost in the cloud, before the team goes there."""

from __future__ import annotations

import pytest

from pipelines.finops.prices import load_prices


def test_the_local_summary_prices_each_job_step_it_ran(first_run):
    project, run = first_run
    cost = run.summary["cost"]
    prices = load_prices()
    region = project.config.aws_region
    if region not in prices.prices:  # a repo in a region the shipped table lacks: no figure, and how to get one
        assert cost["steps"] == [] and cost["on_demand_usd"] == 0
        assert cost["problems"] and all(region in p and "--refresh" in p for p in cost["problems"])
        return
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
