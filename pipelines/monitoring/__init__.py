"""Endpoint drift monitoring: captured traffic checked against the deployed package's baselines.

The drift computation itself runs as step code (seedcode/drift_check.py and what it imports), in the
monitoring pipeline's DriftCheck step, and model quality in its ModelQuality step (seedcode/model_quality.py);
this package orchestrates them.

  names.py       the cloud naming convention (pipeline, parameters, metrics, schedule), mirrored by Terraform
  settings.py    [tool.ml-factory.monitoring]
  baselines.py   the served package's DriftCheckBaselines, refused by name when missing
  definition.py  the monitoring pipeline <project>-monitor-<stage>: DriftCheck, then ModelQuality (model_quality)
  local.py       the local stage: deployed package, its baselines, the capture, the watermark, run folders
  ground_truth.py  model quality: the ModelQuality step's parameters (the served package's model and gate)
                 and its outcome
  local_run.py   that definition on the local engine (`monitor run --local`), its outcome
  cloud.py       `monitor publish` (portable mode) and `monitor schedule` (native Model Monitor)
  native.py      the native DataQuality schedule as API calls
  tracking.py    each local drift run as an MLflow run
  retrain.py     continuous training on this machine, with a state-kept cool-down
"""
