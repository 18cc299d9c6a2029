"""The vending job behind a Studio launch: it validates with the same rules as cookiecutter, renders, makes the
repo and the dev stack, and answers CloudFormation (a loopback server stands in for the presigned URL)."""

from __future__ import annotations

import importlib.util
import io
import json
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from test_invalid_inputs import CASES

from hooks.bundle import source_bundle
from hooks.studio_backend import AwsVendingBackend, BackendSettings
from hooks.studio_template import launch_template, stack_parameter_names
from hooks.studio_vend import PlatformSettings, StackResponse, VendingRequest, request_from_environment, run

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
PLATFORM = PlatformSettings(github_owner="acme-ml", connection_arn="arn:aws:codeconnections:eu-west-1:111111111111:"
                            "connection/abc", vpc_id="vpc-0123456789abcdef0",
                            private_subnet_ids=("subnet-0123456789abcdef0", "subnet-0123456789abcdef1"),
                            route_table_ids=("rtb-0123456789abcdef0",), state_bucket="tf-state-111111111111",
                            build_log_url="https://console.example/build/1")


class Recorder(BaseHTTPRequestHandler):
    """Stores each PUT body (CloudFormation's response, or the GitHub API calls) on the server."""

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.requests.append((self.command, self.path, self.headers.get("Content-Type"), body))  # type: ignore[attr-defined]
        answer = json.dumps({"clone_url": "https://github.com/acme-ml/churn-model.git"}).encode()
        self.send_response(201 if self.command == "POST" else 200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_PUT = do_POST = do_DELETE = _record

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    httpd.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template source as the vending build sees it: the bundle, unpacked."""
    target = tmp_path_factory.mktemp("bundle")
    with tarfile.open(fileobj=io.BytesIO(source_bundle(TEMPLATE_ROOT))) as tar:
        tar.extractall(target, filter="data")
    return target


class FakeBackend:
    def __init__(self, fail_at: str = ""):
        self.calls: list[str] = []
        self.fail_at = fail_at
        self.pushed: Path | None = None

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if name == self.fail_at:
            raise RuntimeError(f"{name} exploded")

    def create_repository(self, values: Any) -> str:
        self._call("create_repository")
        return f"https://github.com/{values['github_repository']}.git"

    def delete_repository(self, values: Any) -> None:
        self._call("delete_repository")

    def terraform_apply(self, project_dir: Path) -> None:
        self._call("terraform_apply")

    def terraform_destroy(self, project_dir: Path) -> None:
        self._call("terraform_destroy")

    def push(self, project_dir: Path, repository_url: str) -> None:
        self._call("push")
        self.pushed = project_dir


def studio_defaults() -> dict[str, str]:
    """What a Studio user who accepts every default sends (the stack fills region and account)."""
    parameters = launch_template(TEMPLATE_ROOT)["Parameters"]
    inputs = {field: parameters[name].get("Default", "") for field, name in stack_parameter_names().items()}
    return inputs | {"project": "churn-model", "aws_region": "eu-west-1", "dev_account_id": "111111111111"}


def vending_request(server: ThreadingHTTPServer, tmp_path: Path, bundle: Path, **inputs: str) -> VendingRequest:
    url = f"http://127.0.0.1:{server.server_address[1]}/cfn-response"
    response = StackResponse(url, "arn:aws:cloudformation:eu-west-1:111111111111:stack/p/1", "req-1", "Vending",
                             "churn-model")
    return VendingRequest(studio_defaults() | inputs, response, PLATFORM, tmp_path / "work", bundle)


def stack_answer(server: ThreadingHTTPServer) -> dict[str, Any]:
    [(method, path, content_type, body)] = server.requests  # type: ignore[attr-defined]
    assert (method, path, content_type) == ("PUT", "/cfn-response", "")
    return body


def test_a_launch_renders_makes_the_repo_applies_then_pushes(server, tmp_path, bundle_dir) -> None:
    backend = FakeBackend()
    assert run(vending_request(server, tmp_path, bundle_dir), backend) == 0
    answer = stack_answer(server)
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["Data"]["RepositoryUrl"] == "https://github.com/acme-ml/churn-model.git"
    assert (answer["RequestId"], answer["PhysicalResourceId"]) == ("req-1", "churn-model")
    assert backend.calls == ["create_repository", "terraform_apply", "push"]
    repo = backend.pushed
    cruft_state = json.loads((repo / ".cruft.json").read_text())
    manifest = json.loads((bundle_dir / "ml-factory-bundle.json").read_text())
    assert (cruft_state["template"], cruft_state["commit"]) == (manifest["template_git_url"], manifest["commit"])
    assert cruft_state["context"]["cookiecutter"]["github_repository"] == "acme-ml/churn-model"
    tfvars = (repo / "infra" / "envs" / "dev.tfvars").read_text()
    assert 'vpc_id             = "vpc-0123456789abcdef0"' in tfvars
    assert '"subnet-0123456789abcdef0", "subnet-0123456789abcdef1"' in tfvars and PLATFORM.connection_arn in tfvars
    assert 'bucket = "tf-state-111111111111"' in (repo / "infra" / "envs" / "dev.s3.tfbackend").read_text()
    assert (repo / "pipelines" / "run.py").is_file()


@pytest.mark.parametrize("field, value, message", CASES, ids=[f"{c[0]}={c[1]}" for c in CASES])
def test_the_vending_job_rejects_what_cookiecutter_rejects(server, tmp_path, bundle_dir, field, value,
                                                          message) -> None:
    backend = FakeBackend()
    assert run(vending_request(server, tmp_path, bundle_dir, **{field: value}), backend) == 1
    answer = stack_answer(server)
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("invalid template input(s): ") and message in answer["Reason"]
    assert backend.calls == [], "nothing may be made for a rejected input"
    assert not (tmp_path / "work").exists()


def test_a_failed_apply_is_undone_and_reported(server, tmp_path, bundle_dir, capsys) -> None:
    backend = FakeBackend(fail_at="terraform_apply")
    assert run(vending_request(server, tmp_path, bundle_dir), backend) == 1
    answer = stack_answer(server)
    assert answer["Status"] == "FAILED"
    assert answer["Reason"] == ("apply the dev stage's Terraform failed: terraform_apply exploded "
                                "(Terraform destroyed; repository deleted)")
    assert backend.calls == ["create_repository", "terraform_apply", "terraform_destroy", "delete_repository"]
    assert "push" not in backend.calls
    assert capsys.readouterr().err.startswith("error: apply the dev stage's Terraform failed")


def test_empty_inputs_take_cookiecutters_derived_defaults(server, tmp_path, bundle_dir) -> None:
    backend = FakeBackend()
    request = vending_request(server, tmp_path, bundle_dir, problem_type="regression", source_provider="codecommit")
    assert run(request, backend) == 0
    values = json.loads((backend.pushed / ".cruft.json").read_text())["context"]["cookiecutter"]
    assert (values["target_column"], values["primary_metric"], values["metric_threshold"]) == (
        "next_30d_spend", "r2", "0.1")
    assert "connection_arn" not in (backend.pushed / "infra" / "envs" / "dev.tfvars").read_text()


def test_the_request_comes_from_the_build_environment(tmp_path) -> None:
    env = {"TEMPLATE_INPUTS": json.dumps({"project": "churn-model"}), "CFN_RESPONSE_URL": "https://s3/x",
           "CFN_STACK_ID": "stack", "CFN_REQUEST_ID": "req", "CFN_LOGICAL_RESOURCE_ID": "Vending",
           "CFN_PHYSICAL_RESOURCE_ID": "churn-model", "VPC_ID": "vpc-1", "PRIVATE_SUBNET_IDS": "subnet-1,subnet-2",
           "ROUTE_TABLE_IDS": "rtb-1", "STATE_BUCKET": "state", "CODEBUILD_BUILD_URL": "https://log"}
    request = request_from_environment(env, tmp_path)
    assert request.inputs == {"project": "churn-model"}
    assert request.platform.private_subnet_ids == ("subnet-1", "subnet-2")
    assert request.platform.build_log_url == "https://log"


@mock_aws
def test_codecommit_repository_is_created_and_deleted() -> None:
    session = boto3.session.Session(region_name="eu-west-1")
    backend = AwsVendingBackend(BackendSettings("http://unused", "acme-ml", ""), session)
    values = studio_defaults() | {"source_provider": "codecommit"}
    url = backend.create_repository(values)
    client = session.client("codecommit")
    assert url == client.get_repository(repositoryName="churn-model")["repositoryMetadata"]["cloneUrlHttp"]
    backend.delete_repository(values)
    with pytest.raises(client.exceptions.RepositoryDoesNotExistException):
        client.get_repository(repositoryName="churn-model")


@mock_aws
def test_github_repository_is_created_and_deleted_through_the_api(server) -> None:
    session = boto3.session.Session(region_name="eu-west-1")
    secret = session.client("secretsmanager").create_secret(Name="gh", SecretString="tok-123")["ARN"]
    api = f"http://127.0.0.1:{server.server_address[1]}"
    backend = AwsVendingBackend(BackendSettings(api, "acme-ml", secret), session)
    values = studio_defaults() | {"github_repository": "acme-ml/churn-model"}
    assert backend.create_repository(values) == "https://github.com/acme-ml/churn-model.git"
    backend.delete_repository(values)
    calls = [(method, path, body.get("private")) for method, path, _, body in server.requests]
    assert calls == [("POST", "/orgs/acme-ml/repos", True), ("DELETE", "/repos/acme-ml/churn-model", None)]


def _lambda_module() -> Any:
    path = TEMPLATE_ROOT / "infra/modules/studio-launch/lambda/start_vending.py"
    spec = importlib.util.spec_from_file_location("start_vending", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _event(server: ThreadingHTTPServer, request_type: str) -> dict[str, Any]:
    return {"RequestType": request_type, "ResponseURL": f"http://127.0.0.1:{server.server_address[1]}/cfn-response",
            "StackId": "stack", "RequestId": "req", "LogicalResourceId": "Vending",
            "ResourceProperties": {"TemplateInputs": {"project": "churn-model", "team": "ds"}}}


def test_the_custom_resource_starts_the_build_and_leaves_the_answer_to_it(server, monkeypatch) -> None:
    monkeypatch.setenv("VENDING_PROJECT", "ml-factory-studio-vending")
    client = boto3.client("codebuild", region_name="eu-west-1")
    with Stubber(client) as stub:
        stub.add_response("start_build", {"build": {"id": "b:1"}}, {
            "projectName": "ml-factory-studio-vending",
            "environmentVariablesOverride": _lambda_module().build_environment(_event(server, "Create"),
                                                                               "churn-model")})
        _lambda_module().handler(_event(server, "Create"), None, codebuild=client)
        stub.assert_no_pending_responses()
    assert server.requests == [], "the build answers the stack, not the function"  # type: ignore[attr-defined]


def test_the_custom_resource_answers_failed_when_the_build_cannot_start(server, monkeypatch) -> None:
    monkeypatch.setenv("VENDING_PROJECT", "ml-factory-studio-vending")
    client = boto3.client("codebuild", region_name="eu-west-1")
    with Stubber(client) as stub:
        stub.add_client_error("start_build", "AccountLimitExceededException", "too many builds")
        _lambda_module().handler(_event(server, "Create"), None, codebuild=client)
    answer = stack_answer(server)
    assert answer["Status"] == "FAILED" and "could not start the vending build" in answer["Reason"]
    assert "too many builds" in answer["Reason"]


def test_delete_answers_success_without_a_build(server) -> None:
    _lambda_module().handler(_event(server, "Delete") | {"PhysicalResourceId": "churn-model"}, None,
                             codebuild=object())
    assert stack_answer(server)["Status"] == "SUCCESS"
