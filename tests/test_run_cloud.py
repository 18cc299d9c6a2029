"""The cloud run path against moto: SSM wiring, code upload, upsert with tags, start, bootstrap."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from pipelines.errors import run_cli
from pipelines.run import main
from pipelines.wiring import WIRING_KEYS, parameter_name


@pytest.fixture
def aws(fake_aws):
    with mock_aws():
        yield fake_aws


def create_bucket(s3, name: str, region: str) -> None:
    """As Terraform would: us-east-1 takes no LocationConstraint, every other region needs one."""
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=name, **location)


@pytest.fixture
def project(aws, repo_root, repo_config):
    """The repo's own config with its dev wiring in SSM, as Terraform would have written it."""
    pyproject = repo_root / "pyproject.toml"
    config = repo_config
    region = config.aws_region
    ssm = boto3.client("ssm", region_name=region)
    values = {
        "execution-role-arn": f"arn:aws:iam::{config.account_id}:role/{config.project}-sagemaker",
        "artifact-bucket": f"{config.project}-artifacts",
        "data-bucket": f"{config.project}-data",
        "kms-key-arn": f"arn:aws:kms:{region}:{config.account_id}:key/1234",
        "subnet-ids": "subnet-a,subnet-b",
        "security-group-ids": "sg-a",
        "model-package-group": f"{config.project}-dev",
        "mlflow-tracking-server-arn": "none",  # a stage without a tracking server
    }
    for spec in WIRING_KEYS:
        ssm.put_parameter(Name=parameter_name(config.project, "dev", spec.key), Value=values[spec.key],
                          Type="StringList" if spec.is_list else "String")
    s3 = boto3.client("s3", region_name=region)
    for bucket in (values["artifact-bucket"], values["data-bucket"]):
        create_bucket(s3, bucket, region)
    s3.put_object(Bucket=values["data-bucket"], Key=f"{config.project}/input/part-0.csv",
                  Body=f"a,{config.target_column}\n1,0\n".encode())
    boto3.client("sagemaker", region_name=region).create_model_package_group(
        ModelPackageGroupName=values["model-package-group"])
    return {"pyproject": pyproject, "config": config, "wiring": values, "region": region}


def run(project, *extra: str) -> int:
    """Run the CLI as `python -m pipelines.run` does, user errors included."""
    return run_cli(main, ["--config", str(project["pyproject"]), *extra])


def execution_parameters(arn: str) -> dict[str, str]:
    sm = boto3.client("sagemaker", region_name=arn.split(":")[3])
    response = sm.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)
    return {p["Name"]: p["Value"] for p in response["PipelineParameters"]}


def test_run_reads_wiring_uploads_code_upserts_and_starts(project, capsys):
    assert run(project) == 0
    out, err = capsys.readouterr()
    arn = out.strip()
    assert arn.startswith("arn:aws:sagemaker:") and "/execution/" in arn  # stdout holds only the ARN
    config = project["config"]
    sm = boto3.client("sagemaker", region_name=project["region"])
    pipeline = sm.describe_pipeline(PipelineName=config.pipeline_name)
    definition = json.loads(pipeline["PipelineDefinition"])
    assert pipeline["RoleArn"] == project["wiring"]["execution-role-arn"]
    train = next(s for s in definition["Steps"] if s["Name"] == "Train")
    assert train["Arguments"]["VpcConfig"]["Subnets"] == ["subnet-a", "subnet-b"]  # wiring came from SSM
    tags = {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=pipeline["PipelineArn"])["Tags"]}
    assert tags == config.tags
    keys = [o["Key"] for o in boto3.client("s3", region_name=project["region"]).list_objects_v2(
        Bucket=project["wiring"]["artifact-bucket"])["Contents"]]
    assert any(k.endswith("/sourcedir.tar.gz") for k in keys)
    assert any(k.endswith("/files/train.py") for k in keys)
    assert f"pipeline {config.pipeline_name}: created" in err


def test_first_run_bootstraps_the_baseline(project, capsys):
    assert run(project) == 0
    params = execution_parameters(capsys.readouterr().out.strip())
    assert params["SkipDataQualityCheck"] == "true"
    assert params["RegisterNewDataQualityBaseline"] == "true"


def test_with_an_approved_model_the_drift_check_runs(project, capsys):
    sm = boto3.client("sagemaker", region_name=project["region"])
    group = project["wiring"]["model-package-group"]
    sm.create_model_package(
        ModelPackageGroupName=group, ModelApprovalStatus="Approved",
        InferenceSpecification={"Containers": [{"Image": "img", "ModelDataUrl": "s3://b/model.tar.gz"}],
                                "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]})
    assert run(project) == 0
    out, err = capsys.readouterr()
    params = execution_parameters(out.strip())
    assert params["SkipDataQualityCheck"] == "false"
    assert params["RegisterNewDataQualityBaseline"] == "false"
    assert "checking drift against the baseline of approved version 1" in err


def test_second_upsert_without_change_leaves_the_definition_alone(project, capsys):
    assert run(project) == 0
    sm = boto3.client("sagemaker", region_name=project["region"])
    name = project["config"].pipeline_name
    first = sm.describe_pipeline(PipelineName=name)
    capsys.readouterr()
    assert run(project) == 0
    _, err = capsys.readouterr()
    second = sm.describe_pipeline(PipelineName=name)
    assert f"pipeline {name}: unchanged" in err
    assert second["PipelineDefinition"] == first["PipelineDefinition"]
    assert second["LastModifiedTime"] == first["LastModifiedTime"]
    assert "step code" in err and "already uploaded" in err


def test_param_overrides_reach_the_execution(project, capsys):
    assert run(project, "--param", "MetricThreshold=0.85", "--param", "SkipDataQualityCheck=false") == 0
    params = execution_parameters(capsys.readouterr().out.strip())
    assert params["MetricThreshold"] == "0.85"
    assert params["SkipDataQualityCheck"] == "false"  # the user's choice beats the bootstrap


@pytest.mark.parametrize("param, message", [
    ("Threshold=0.8", "unknown pipeline parameter(s) Threshold"),
    ("MetricThreshold=high", "MetricThreshold is Float: 'high' is not a number"),
    ("SkipDataQualityCheck=maybe", "SkipDataQualityCheck is Boolean: use true or false"),
    ("ModelApprovalStatus=Rejected", "ModelApprovalStatus must be one of PendingManualApproval, Approved"),
    ("InputDataUri=/tmp/data.csv", "InputDataUri must be an s3:// URI"),
    ("novalue", "is not Name=Value"),
])
def test_bad_param_is_rejected_before_anything_is_created(project, capsys, param, message):
    assert run(project, "--param", param) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert boto3.client("sagemaker", region_name=project["region"]).list_pipelines()["PipelineSummaries"] == []


def test_missing_wiring_names_parameter_and_module(project, capsys):
    ssm = boto3.client("ssm", region_name=project["region"])
    config = project["config"]
    ssm.delete_parameter(Name=parameter_name(config.project, "dev", "execution-role-arn"))
    assert run(project) == 2
    err = capsys.readouterr().err
    assert f"/ml-factory/{config.project}/dev/execution-role-arn" in err
    assert "infra/modules/sagemaker-project" in err
    assert boto3.client("sagemaker", region_name=project["region"]).list_pipelines()["PipelineSummaries"] == []


def test_no_credentials_is_one_clear_line(monkeypatch, tmp_path, repo_root, capsys):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert run_cli(main, ["--config", str(repo_root / "pyproject.toml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no AWS credentials found")
    assert "--dry-run or --local" in err


def test_summary_file_records_the_run(project, capsys, tmp_path):
    summary = tmp_path / "out" / "summary.json"
    assert run(project, "--summary", str(summary)) == 0
    data = json.loads(summary.read_text())
    assert data["execution_arn"] == capsys.readouterr().out.strip()
    assert data["upsert"] == "created"
    assert data["parameters"]["SkipDataQualityCheck"] is True


def answer_in_process(session, operation: str, status: int, body: dict) -> None:
    """Answer `operation` of the session's SageMaker clients in process: moto 5.2.5 lacks some APIs,
    and IAM denials cannot be staged in it. botocore's Stubber answers the same way (a before-call hook)."""
    from botocore.awsrequest import AWSResponse

    def respond(**_kwargs):
        return AWSResponse("https://api.sagemaker.invalid", status, {}, None), body

    session.events.register(f"before-call.sagemaker.{operation}", respond)


@pytest.fixture
def build_role_without_describe_training_job(monkeypatch, repo_config):
    """The CodeBuild role of issue 2: it may follow the execution but not describe its training job."""
    import pipelines.aws

    real = pipelines.aws.aws_session
    job_arn = f"arn:aws:sagemaker:{repo_config.aws_region}:111111111111:training-job/pipelines-abc-train"
    steps = [{"StepName": name, "StepStatus": "Succeeded", **extra} for name, extra in (
        ("Preprocess", {}), ("Train", {"Metadata": {"TrainingJob": {"Arn": job_arn}}}))]

    def session_of_build_role(region: str):
        session = real(region)
        answer_in_process(session, "ListPipelineExecutionSteps", 200, {"PipelineExecutionSteps": steps})
        answer_in_process(session, "DescribeTrainingJob", 400, {"Error": {
            "Code": "AccessDeniedException", "Message": "User: arn:aws:sts::111111111111:assumed-role/codebuild "
                                                        "is not authorized to perform: sagemaker:DescribeTrainingJob"}})
        return session

    monkeypatch.setattr(pipelines.aws, "aws_session", session_of_build_role)


def test_unreadable_spot_billing_after_success_warns_and_exits_zero(project, capsys, tmp_path,
                                                                     build_role_without_describe_training_job):
    summary = tmp_path / "summary.json"
    assert run(project, "--wait", "--poll-seconds", "0", "--summary", str(summary)) == 0
    err = capsys.readouterr().err
    warning = ("warning: could not read Spot billing for pipelines-abc-train: AccessDeniedException: User: "
               "arn:aws:sts::111111111111:assumed-role/codebuild is not authorized to perform: "
               "sagemaker:DescribeTrainingJob; grant sagemaker:DescribeTrainingJob to the build role")
    assert [line for line in err.splitlines() if line.startswith("warning:")] == [warning]
    assert "Traceback" not in err and "error:" not in err
    assert "execution succeeded" in err
    data = json.loads(summary.read_text())
    assert data["status"] == "Succeeded"
    assert data["spot"] is None
    assert data["report_warnings"] == [warning.removeprefix("warning: ")]


def test_run_passes_lineage_of_data_and_commit(project, capsys, repo_root):
    """The registered version can name its data (a hash of the input objects' listing) and commit."""
    import subprocess

    assert run(project) == 0
    arn = capsys.readouterr().out.strip()
    parameters = execution_parameters(arn)
    assert parameters["InputDataHash"].startswith("sha256-etag:") and len(parameters["InputDataHash"]) == 76
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo_root, capture_output=True, text=True)
    assert parameters["GitCommit"] == (head.stdout.strip() if head.returncode == 0 else "unknown")

    s3 = boto3.client("s3", region_name=project["region"])
    s3.put_object(Bucket=project["wiring"]["data-bucket"], Key=f"{project['config'].project}/input/part-1.csv",
                  Body=f"a,{project['config'].target_column}\n2,1\n".encode())
    assert run(project) == 0
    assert execution_parameters(capsys.readouterr().out.strip())["InputDataHash"] != parameters["InputDataHash"]
