"""The model package <-> MLflow run link, the same for both registries.

The package's metadata (CustomerMetadataProperties; the local registry's record) names the run,
and the run is tagged with the package. Light on purpose: `python -m pipelines.registry` reads the
keys without importing MLflow.
"""

from __future__ import annotations

from typing import Any

KEY_RUN_ID = "mlflow_run_id"
KEY_RUN_URI = "mlflow_run_uri"  # <tracking uri>/experiments/<experiment id>/runs/<run id>
KEY_TRACKING_URI = "mlflow_tracking_uri"
LINK_KEYS = (KEY_RUN_ID, KEY_RUN_URI, KEY_TRACKING_URI)


def run_uri(tracking_uri: str, experiment_id: str, run_id: str) -> str:
    """Server, experiment and run in one string: the UI's route to the run, without its `#` (which
    CustomerMetadataProperties do not allow)."""
    return f"{tracking_uri.rstrip('/')}/experiments/{experiment_id}/runs/{run_id}"


def package_metadata(tracking_uri: str, experiment_id: str, run_id: str) -> dict[str, str]:
    return {KEY_RUN_ID: run_id, KEY_RUN_URI: run_uri(tracking_uri, experiment_id, run_id),
            KEY_TRACKING_URI: tracking_uri}


def package_tags(arn: str, group: str, version: Any) -> dict[str, str]:
    """The run's tags naming its model package."""
    return {"model_package_arn": arn, "model_package_group": group, "model_package_version": str(version)}
