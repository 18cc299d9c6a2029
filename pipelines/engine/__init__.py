"""The local engine: `python -m pipelines.run --local` runs the pipeline definition JSON on this machine.

  cli.py            run_local(config, args): inputs checked, definition built, report written
  build.py          the definition (same builder as the cloud run) with local wiring, remembered
  graph.py          steps and dependencies of a definition; unsupported step types rejected
  expressions.py    Get / Std:Join / Std:JsonGet and conditions
  engine.py         LocalEngine: scheduling, conditions, fail steps, caching
  processing.py     Processing steps      training.py   Training steps (script mode, checkpoints)
  quality_check.py  QualityCheck steps    register.py   RegisterModel steps
  spot.py           simulated Spot interruptions    cache.py  step cache (SQLite)
  store.py          the local object store           sandbox.py, process.py  a step's container stand-in
  inputs.py         code and data put into the store  registry.py  the local model registry (SQLite)
  summary.py, report.py  summary.json, stdout summary, report.html
"""
