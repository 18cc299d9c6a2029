"""Experiment tracking with MLflow: every run, local or cloud, logged and comparable.

`settings` (no MLflow import) parses `[tool.ml-factory.tracking]`; `mlflow_runs` holds the tracking
calls; `local_run` and `cloud_run` turn a finished local or cloud execution into one logged run and
link it with its model package both ways. MLflow is imported only when a run is logged, so
`pipelines.run --dry-run` never pays for it.
"""
