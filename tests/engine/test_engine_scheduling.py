"""The engine on a small hand-written definition (no SDK, tiny scripts): scheduling, concurrency,
conditions and Fail messages, property files, container paths, failure reasons, caching."""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from pipelines.engine.cache import StepCache, parse_duration
from pipelines.engine.engine import LocalEngine
from pipelines.engine.execution import Execution
from pipelines.engine.graph import PipelineGraph
from pipelines.engine.registry import LocalRegistry
from pipelines.engine.step_job import EngineSettings
from pipelines.engine.store import ObjectStore, StoreError
from pipelines.progress import Progress

WRITE_SCORE = ("import json, os, pathlib, sys, time; time.sleep(float(sys.argv[3])); "
               "out = pathlib.Path(sys.argv[2]); out.mkdir(parents=True, exist_ok=True); "
               "assert str(out).startswith(os.environ['SM_OPT_ML_ROOT']); "
               "(out / 'report.json').write_text(json.dumps({'metrics': {'score': float(sys.argv[1])}}))")
COPY_INPUT = ("import os, pathlib, shutil; root = pathlib.Path(os.environ['SM_OPT_ML_ROOT']); "
              "shutil.copytree(root / 'processing/input/a', root / 'processing/output/c', dirs_exist_ok=True)")
FAIL_WITH_FILE = ("import os, pathlib, sys; "
                  "p = pathlib.Path(os.environ['SM_OPT_ML_ROOT']) / 'processing/output/failure'; "
                  "p.parent.mkdir(parents=True, exist_ok=True); p.write_text('bad rows: 3 of 10'); sys.exit(2)")


def join(*values: Any) -> dict[str, Any]:
    return {"Std:Join": {"On": "/", "Values": list(values)}}


def get(path: str) -> dict[str, str]:
    return {"Get": path}


def score() -> dict[str, Any]:
    return {"Std:JsonGet": {"PropertyFile": get("Steps.A.PropertyFiles.Report"), "Path": "metrics.score"}}


def processing(name: str, code: str, args: list[Any], inputs: list[tuple[str, Any, str]] = (),
               outputs: list[tuple[str, str]] = (), **extra: Any) -> dict[str, Any]:
    return {
        "Name": name, "Type": "Processing",
        "Arguments": {
            "AppSpecification": {"ImageUri": "local", "ContainerEntrypoint": ["python3", "-c", code],
                                 "ContainerArguments": args},
            "ProcessingInputs": [{"InputName": n, "S3Input": {"S3Uri": uri, "LocalPath": local,
                                                               "S3DataType": "S3Prefix", "S3InputMode": "File"}}
                                 for n, uri, local in inputs],
            "ProcessingOutputConfig": {"Outputs": [
                {"OutputName": n, "S3Output": {"S3Uri": join("s3://bucket/runs", get("Execution.PipelineExecutionId"),
                                                             name, n), "LocalPath": local}} for n, local in outputs]},
        },
        "CacheConfig": {"Enabled": True, "ExpireAfter": "P1D"},
        **extra,
    }


def definition(score_code: str = WRITE_SCORE) -> dict[str, Any]:
    gate = {"Type": "Or", "Conditions": [
        {"Type": "Not",
         "Condition": {"Type": "LessThan", "LeftValue": score(), "RightValue": get("Parameters.Threshold")}},
        {"Type": "In", "QueryValue": get("Parameters.Mode"), "Values": ["force"]}]}
    return {
        "Version": "2020-12-01",
        "Parameters": [{"Name": "Score", "Type": "Float", "DefaultValue": 0.9},
                       {"Name": "Threshold", "Type": "Float", "DefaultValue": 0.5},
                       {"Name": "Mode", "Type": "String", "DefaultValue": "normal"}],
        "Steps": [
            processing("A", score_code, [get("Parameters.Score"), "/opt/ml/processing/out", "0.6"],
                       outputs=[("out", "/opt/ml/processing/out")],
                       PropertyFiles=[{"PropertyFileName": "Report", "OutputName": "out", "FilePath": "report.json"}]),
            processing("B", WRITE_SCORE, ["1", "/opt/ml/processing/b", "0.6"], outputs=[("b", "/opt/ml/processing/b")]),
            processing("C", COPY_INPUT, [],
                       inputs=[("a", get("Steps.A.ProcessingOutputConfig.Outputs['out'].S3Output.S3Uri"),
                                "/opt/ml/processing/input/a")],
                       outputs=[("c", "/opt/ml/processing/output/c")], DependsOn=["B"]),
            {"Name": "Gate", "Type": "Condition", "Arguments": {
                "Conditions": [gate],
                "IfSteps": [processing("D", WRITE_SCORE, ["1", "/opt/ml/processing/d", "0"])],
                "ElseSteps": [{"Name": "TooLow", "Type": "Fail", "Arguments": {"ErrorMessage": {"Std:Join": {
                    "On": "", "Values": ["score ", score(), " is below ", get("Parameters.Threshold")]}}}}]},
             "DependsOn": ["C"]},
        ],
    }


class Harness:
    def __init__(self, root: Path):
        self.root = root
        self.store = ObjectStore(root / "s3")
        self.cache = StepCache(root / "cache.db")
        self.registry = LocalRegistry(root / "registry.db")

    def run(self, spec: dict[str, Any], **parameters: Any):
        values = {p["Name"]: p["DefaultValue"] for p in spec["Parameters"]} | parameters
        execution = Execution.new("toy-dev", "eu-west-1", "123456789012")
        engine = LocalEngine(self.store, self.registry, self.cache, EngineSettings(max_workers=2),
                             Progress(stream=io.StringIO()))
        return engine.run(PipelineGraph.from_definition(spec), values, execution,
                          self.root / "runs" / execution.execution_id)


@pytest.fixture
def harness(tmp_path) -> Harness:
    return Harness(tmp_path)


def by_name(result) -> dict[str, Any]:
    return {step.name: step for step in result.steps}


def test_branches_property_files_and_container_paths(harness):
    result = harness.run(definition())
    steps = by_name(result)
    assert result.status == "Succeeded", result.failure_reason
    assert {n: s.status for n, s in steps.items()} == {"A": "Succeeded", "B": "Succeeded", "C": "Succeeded",
                                                       "Gate": "Succeeded", "D": "Succeeded", "TooLow": "Skipped"}
    assert steps["Gate"].facts["outcome"] is True
    assert result.property_files["A"]["Report"] == {"metrics": {"score": 0.9}}
    # C received A's output through a step-property reference and uploaded it under this execution
    c_uri = result.properties["C"]["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    assert c_uri == f"s3://bucket/runs/{result.execution.execution_id}/C/c"
    assert harness.store.read_json(f"{c_uri}/report.json") == {"metrics": {"score": 0.9}}


def test_independent_steps_run_at_the_same_time(harness):
    steps = by_name(harness.run(definition()))
    a, b, c = steps["A"], steps["B"], steps["C"]
    assert b.started < a.started + a.seconds and a.started < b.started + b.seconds  # overlapping
    assert c.started >= max(a.started + a.seconds, b.started + b.seconds) - 0.05  # waits for both


def test_else_branch_fails_with_the_resolved_message(harness):
    result = harness.run(definition(), Score=0.25)
    assert result.failed_step == "TooLow"
    assert result.failure_reason == "score 0.25 is below 0.5"
    assert by_name(result)["D"].status == "Skipped"
    forced = harness.run(definition(), Score=0.25, Mode="force")  # In(...) inside Or(...)
    assert forced.status == "Succeeded" and by_name(forced)["D"].status == "Succeeded"


def test_failure_reason_comes_from_the_failure_file_and_stops_the_pipeline(harness):
    result = harness.run(definition(score_code=FAIL_WITH_FILE))
    steps = by_name(result)
    assert (result.failed_step, result.failure_reason) == ("A", "bad rows: 3 of 10")
    assert steps["B"].status == "Succeeded"  # already running: finishes, as in the service
    assert steps["C"].status == steps["Gate"].status == "NotStarted"


def test_failure_reason_falls_back_to_the_last_stderr_line(harness):
    spec = definition(score_code="import sys; print('noise', file=sys.stderr); raise SystemExit('disk on fire')")
    result = harness.run(spec)
    assert (result.failed_step, result.failure_reason) == ("A", "disk on fire")


def test_cache_keys_follow_parameters_and_upstream_steps(harness):
    first = harness.run(definition())
    again = by_name(harness.run(definition()))
    assert {n: again[n].cache_hit_from for n in "ABC"} == dict.fromkeys("ABC", first.execution.execution_id)
    assert again["D"].cache_hit_from == first.execution.execution_id
    changed = by_name(harness.run(definition(), Score=0.8))
    assert changed["A"].cache_hit_from is None  # its argument changed
    assert changed["C"].cache_hit_from is None  # reads A, whose key changed
    assert changed["B"].cache_hit_from == first.execution.execution_id


def test_cache_respects_expiry_and_missing_outputs(harness):
    key = by_name(harness.run(definition()))["A"].cache_key
    assert harness.cache.lookup(key, "P1D", harness.store.exists) is not None
    assert harness.cache.lookup(key, "PT1S", harness.store.exists, now=time.time() + 5) is None
    assert harness.cache.lookup(key, "P1D", lambda uri: False) is None


def test_iso_durations():
    assert parse_duration("P30D") == 30 * 86400
    assert parse_duration("PT1H30M") == 5400
    assert parse_duration("P1W") == 7 * 86400
    assert parse_duration(None) is None
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_duration("30 days")


def test_store_downloads_objects_and_prefixes_by_hard_link(tmp_path):
    store = ObjectStore(tmp_path / "s3")
    source = tmp_path / "data.csv"
    source.write_text("a,b\n1,2\n")
    store.put_file("s3://bucket/in/data.csv", source)
    store.put_bytes("s3://bucket/in/sub/more.csv", b"a,b\n")
    assert store.get_tree("s3://bucket/in/data.csv", tmp_path / "one") == 1
    assert (tmp_path / "one" / "data.csv").stat().st_ino == source.stat().st_ino  # no copy
    assert store.get_tree("s3://bucket/in/", tmp_path / "all") == 2
    assert (tmp_path / "all" / "sub" / "more.csv").read_bytes() == b"a,b\n"
    with pytest.raises(StoreError, match="no objects found under s3://bucket/missing"):
        store.get_tree("s3://bucket/missing", tmp_path / "none")
    with pytest.raises(StoreError, match="not an s3:// URI"):
        store.path("/etc/passwd")
    with pytest.raises(StoreError, match="not allowed"):
        store.path("s3://bucket/../escape")


def test_python3_is_this_interpreter(tmp_path):
    from pipelines.engine.sandbox import Sandbox

    sandbox = Sandbox(tmp_path / "step")
    argv = sandbox.command(["python3", "/opt/ml/processing/input/code/x.py", "--out=/opt/ml/processing/o",
                            "/opt/mlx", "keep/opt/ml"])
    assert argv[0] == sys.executable
    assert argv[1] == f"{sandbox.root}/processing/input/code/x.py"
    assert argv[2] == f"--out={sandbox.root}/processing/o"
    assert argv[3:] == ["/opt/mlx", "keep/opt/ml"]


def test_max_runtime_stops_the_job(harness):
    spec = {"Parameters": [], "Steps": [processing("Slow", "import time; time.sleep(30)", [])]}
    spec["Steps"][0]["Arguments"]["StoppingCondition"] = {"MaxRuntimeInSeconds": 1}
    result = harness.run(spec)
    assert result.failed_step == "Slow"
    assert result.failure_reason == "the job ran longer than MaxRuntimeInSeconds (1 s) and was stopped"
    assert by_name(result)["Slow"].seconds < 15


FAKE_TRAIN = '''
import json, os, pathlib, sys, time
root = pathlib.Path(os.environ["SM_OPT_ML_ROOT"])
checkpoints = root / "checkpoints"
checkpoints.mkdir(parents=True, exist_ok=True)
done = max([int(p.name.split(".")[1]) for p in checkpoints.glob("ckpt.*")] or [0])
if done:
    print(f"[ml-factory] resumed from checkpoint round={done}", flush=True)
total = int(json.loads(os.environ["SM_HPS"])["num_round"])
for n in range(done + 1, total + 1):
    time.sleep(0.05)
    print(f"[ml-factory] round={n}/{total} validation-auc=0.{n:02d}", flush=True)
    if n % 4 == 0:
        (checkpoints / f"ckpt.{n}").write_text(str(n))
        print(f"[ml-factory] checkpoint round={n}", flush=True)
model = pathlib.Path(os.environ["SM_MODEL_DIR"])
(model / "contract.json").write_text(json.dumps({
    "argv": sys.argv[1:], "cwd": os.getcwd(),
    "hps_file": json.loads((root / "input/config/hyperparameters.json").read_text()),
    "env": {k: v for k, v in os.environ.items() if k.startswith("SM_")},
    "train": sorted(p.name for p in pathlib.Path(os.environ["SM_CHANNEL_TRAIN"]).iterdir())}))
'''


def training_definition(store: ObjectStore) -> dict[str, Any]:
    import tarfile as tar_module

    source = store.root.parent / "src"
    source.mkdir(exist_ok=True)
    (source / "fake_train.py").write_text(FAKE_TRAIN)
    archive = store.path("s3://bucket/code/sourcedir.tar.gz")
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tar_module.open(archive, "w:gz") as tar:
        tar.add(source / "fake_train.py", arcname="fake_train.py")
    store.put_bytes("s3://bucket/data/train/part.csv", b"y,x\n1,2\n")
    return {"Parameters": [{"Name": "Rounds", "Type": "Integer", "DefaultValue": 10}], "Steps": [{
        "Name": "Train", "Type": "Training", "CacheConfig": {"Enabled": True, "ExpireAfter": "P1D"},
        "Arguments": {
            "AlgorithmSpecification": {"TrainingImage": "xgboost", "TrainingInputMode": "File"},
            "HyperParameters": {"num_round": get("Parameters.Rounds"), "eta": "0.2",
                                "sagemaker_program": "fake_train.py",
                                "sagemaker_submit_directory": "/opt/ml/input/data/code/sourcedir.tar.gz"},
            "InputDataConfig": [
                {"ChannelName": "train", "DataSource": {"S3DataSource": {"S3Uri": "s3://bucket/data/train"}}},
                {"ChannelName": "code",
                 "DataSource": {"S3DataSource": {"S3Uri": "s3://bucket/code/sourcedir.tar.gz"}}}],
            "OutputDataConfig": {"S3OutputPath": join("s3://bucket/runs", get("Execution.PipelineExecutionId"),
                                                      "Train")},
            "CheckpointConfig": {"S3Uri": join("s3://bucket/checkpoints", get("Execution.PipelineExecutionId")),
                                 "LocalPath": "/opt/ml/checkpoints"},
            "EnableManagedSpotTraining": True,
        }}]}


def test_training_gets_the_script_mode_contract(harness):
    import json
    import tarfile as tar_module

    result = harness.run(training_definition(harness.store))
    assert result.status == "Succeeded", result.failure_reason
    properties = result.properties["Train"]
    model = properties["ModelArtifacts"]["S3ModelArtifacts"]
    job = properties["TrainingJobName"]
    assert model == f"s3://bucket/runs/{result.execution.execution_id}/Train/{job}/output/model.tar.gz"
    with tar_module.open(harness.store.path(model), "r:gz") as tar:
        assert tar.getnames() == ["contract.json"]  # the model dir's contents, no folder prefix
        contract = json.loads(tar.extractfile("contract.json").read())
    assert contract["argv"] == ["--eta", "0.2", "--num_round", "10"]  # user hyperparameters, sorted
    assert contract["hps_file"]["num_round"] == "10" and contract["hps_file"]["sagemaker_program"] == "fake_train.py"
    env = contract["env"]
    assert json.loads(env["SM_HPS"]) == {"eta": 0.2, "num_round": 10}
    assert json.loads(env["SM_CHANNELS"]) == ["code", "train"]
    assert env["SM_CURRENT_HOST"] == "algo-1" and json.loads(env["SM_HOSTS"]) == ["algo-1"]
    assert env["SM_MODEL_DIR"].startswith(env["SM_OPT_ML_ROOT"]) and env["SM_OUTPUT_DATA_DIR"].endswith("output/data")
    assert contract["train"] == ["part.csv"] and contract["cwd"].endswith("opt_ml/code")
    assert properties["FinalMetricDataList"] == [{"MetricName": "validation:auc", "Value": 0.1}]
    checkpoints = harness.store.path(f"s3://bucket/checkpoints/{result.execution.execution_id}")
    assert sorted(p.name for p in checkpoints.iterdir()) == ["ckpt.4", "ckpt.8"]


def test_spot_interruption_stops_at_the_round_and_resumes_from_the_checkpoint(harness):
    spec = training_definition(harness.store)
    values = {"Rounds": 12}
    execution = Execution.new("toy-dev", "eu-west-1", "123456789012")
    engine = LocalEngine(harness.store, harness.registry, harness.cache,
                         EngineSettings(spot_interruption_round=6, spot_grace_seconds=2),
                         Progress(stream=io.StringIO()))
    result = engine.run(PipelineGraph.from_definition(spec), values, execution, harness.root / "runs" / "spot")
    assert result.status == "Succeeded", result.failure_reason
    spot = by_name(result)["Train"].facts["spot"]
    assert spot["interrupted"] and spot["attempts"] == 2
    assert spot["resumed_from_round"] == 4 and spot["rounds_saved"] == 4
    assert spot["interrupted_at_round"] >= 6 and spot["rounds_redone"] == spot["interrupted_at_round"] - 4
    logs = harness.root / "runs" / "spot" / "Train" / "logs"
    assert "resumed from checkpoint round=4" in (logs / "attempt2.stdout.log").read_text()
