"""Endpoint drift monitoring: captured traffic checked against the deployed package's baselines.

  window.py   capture records of a time window as bounded DataFrame chunks (malformed input counted)
  job.py      the drift run: seedcode's streaming statistics and Model Monitor checks, files of a run folder
  local.py    the local stage: deployed package, its baselines, the capture folder, the watermark
  ground_truth.py  model quality: labels merged with the window's predictions, scored by seedcode/model_quality.py
"""
