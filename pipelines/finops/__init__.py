"""FinOps guardrails: the price table, the estimate before a run, the Spot saving after it, and the
monthly spend report (`python -m pipelines.costs`)."""
