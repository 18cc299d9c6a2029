"""The local engine: `python -m pipelines.run --local` runs the pipeline definition JSON on this machine.

  cli.py            run_local(config, args): inputs checked, definition built, engine run, reports written
  build.py          the definition (the cloud run's builder, local wiring), remembered per config and code
  graph.py          the steps of a definition and their dependencies; unsupported step types refused
  expressions.py    Get / Std:Join / Std:JsonGet and the condition types
  engine.py         LocalEngine: scheduling, conditions, Fail steps, step caching
  processing.py     Processing steps        training.py    Training steps (script mode, checkpoints)
  quality_check.py  QualityCheck steps      register.py    RegisterModel steps
  hosts.py          a multi-instance job's host processes on 127.0.0.1 (shares, host list, tracker)
  spot.py           simulated Spot interruptions             retry.py      --retry: a failed execution again
  cache.py          the step cache (SQLite)            registry.py   the model registry (SQLite)
  store.py          the local object store (s3:// -> files, hard links)
  sandbox.py        a step's /opt/ml                   process.py    a step's child process
  inputs.py         step code and input data put into the store
  execution.py      execution ids and variables        step_job.py   what a step runner gets and returns
  state.py          the state folder layout (.ml-factory/)
  summary.py        summary.json and the stdout summary   report.py   report.html
"""
