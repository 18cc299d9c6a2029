"""The vending job of a Studio launch: `python -m hooks.studio_vend`, run by the studio-launch module's
CodeBuild project from the unpacked template source bundle (see hooks/bundle.py).

The launch stack's custom resource starts this build with the stack's inputs and CloudFormation's
response URL in the environment. The job
1. validates the inputs with pipelines/rules.py check_template_inputs, after letting cookiecutter derive
   the defaults left empty: the same code, on the same values, as `cookiecutter` and `cruft create`;
2. renders the repo with cookiecutter and records the template's git source, commit and inputs in
   `.cruft.json` (so `make update` works in Studio-launched repos too), with the platform's network ids,
   connection and state bucket in the dev stage's files;
3. creates the team's repo (GitHub through the platform's token, or CodeCommit), applies the team root
   module's Terraform for dev (its CodePipeline watches the repo), then pushes, which starts the first run;
4. answers the stack: SUCCESS with the repo URL, or FAILED with one line naming the step and reason, after
   undoing what it made (Terraform destroy, repo deleted), so a failed launch leaves nothing half-made.
"""

from __future__ import annotations

import json
import os
import re
import sys
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pipelines.rules import check_template_inputs

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
MANIFEST = "ml-factory-bundle.json"
ANSWERED_MARKER = Path("/tmp/cfn-answered")  # the buildspec's post_build answers FAILED when this is missing
REASON_LIMIT = 1000  # CloudFormation shows the reason in the stack events; the response body holds 4 KB


class VendingError(Exception):
    """A launch step failed; the message is the reason the stack shows."""


@dataclass(frozen=True)
class StackResponse:
    """Where and how to answer CloudFormation (the custom resource request's fields)."""

    url: str
    stack_id: str
    request_id: str
    logical_resource_id: str
    physical_resource_id: str

    def send(self, status: str, reason: str = "", data: Mapping[str, str] | None = None) -> None:
        body = json.dumps({"Status": status, "Reason": reason[:REASON_LIMIT], "StackId": self.stack_id,
                           "RequestId": self.request_id, "LogicalResourceId": self.logical_resource_id,
                           "PhysicalResourceId": self.physical_resource_id, "Data": dict(data or {})}).encode()
        request = urllib.request.Request(self.url, data=body, method="PUT", headers={"Content-Type": ""})
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - CloudFormation's presigned URL
            answer.read()


@dataclass(frozen=True)
class PlatformSettings:
    """What the platform team configured on the vending project (infra/modules/studio-launch)."""

    github_owner: str
    connection_arn: str
    vpc_id: str
    private_subnet_ids: tuple[str, ...]
    route_table_ids: tuple[str, ...]
    state_bucket: str
    build_log_url: str = ""


@dataclass(frozen=True)
class VendingRequest:
    inputs: dict[str, str]  # the stack's TemplateInputs; empty means "the template's default"
    response: StackResponse
    platform: PlatformSettings
    work_dir: Path
    template_dir: Path = TEMPLATE_ROOT


@dataclass
class LaunchRecord:
    """What the launch has made so far, so a failure can undo exactly that."""

    values: dict[str, str] = field(default_factory=dict)
    project_dir: Path | None = None
    repository_url: str = ""
    applied: bool = False
    undone: list[str] = field(default_factory=list)


class VendingBackend(Protocol):
    """The side effects of a launch (tests substitute a recording fake)."""

    def create_repository(self, values: Mapping[str, str]) -> str: ...
    def delete_repository(self, values: Mapping[str, str]) -> None: ...
    def terraform_apply(self, project_dir: Path) -> None: ...
    def terraform_destroy(self, project_dir: Path) -> None: ...
    def push(self, project_dir: Path, repository_url: str) -> None: ...


def resolved_inputs(request: VendingRequest) -> tuple[dict[str, str], dict[str, str]]:
    """(the inputs given, every input with cookiecutter's derived defaults filled in)."""
    from cookiecutter.generate import generate_context
    from cookiecutter.prompt import prompt_for_config

    given = {k: v for k, v in request.inputs.items() if v != ""}
    if request.inputs.get("source_provider", "github") == "github" and not given.get("github_repository"):
        given["github_repository"] = f"{request.platform.github_owner}/{given.get('project', '')}"
    context = generate_context(str(request.template_dir / "cookiecutter.json"), extra_context=given)
    context["cookiecutter"].pop("__validated", None)  # validated below, with the problems returned, not exited on
    values = {k: str(v) for k, v in prompt_for_config(context, no_input=True).items() if not k.startswith("_")}
    return given, values


def validate(request: VendingRequest) -> tuple[dict[str, str], dict[str, str]]:
    given, values = resolved_inputs(request)
    problems = check_template_inputs(dict(values))
    if problems:
        raise VendingError("invalid template input(s): " + "; ".join(problems))
    return given, values


def render(request: VendingRequest, given: Mapping[str, str], values: Mapping[str, str]) -> Path:
    """The rendered repo with `.cruft.json` and the platform's dev settings written in."""
    from cookiecutter.main import cookiecutter

    project_dir = Path(cookiecutter(str(request.template_dir), no_input=True, extra_context=dict(given),
                                    output_dir=str(request.work_dir)))
    manifest = json.loads((request.template_dir / MANIFEST).read_text())
    write_cruft_state(project_dir, manifest, values)
    write_dev_settings(project_dir, values, request.platform)
    return project_dir


def write_cruft_state(project_dir: Path, manifest: Mapping[str, Any], values: Mapping[str, str]) -> None:
    """The `.cruft.json` `cruft create` would write: template git URL, commit and the inputs."""
    context = dict(values) | {"_template": manifest["template_git_url"], "_commit": manifest["commit"]}
    state = {"template": manifest["template_git_url"], "commit": manifest["commit"], "checkout": None,
             "context": {"cookiecutter": context}, "directory": None}
    (project_dir / ".cruft.json").write_text(json.dumps(state, ensure_ascii=False, indent=2) + "\n")


def _hcl_list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def write_dev_settings(project_dir: Path, values: Mapping[str, str], platform: PlatformSettings) -> None:
    """Replace dev.tfvars' placeholder network ids with the platform's; name the connection and state."""
    tfvars = project_dir / "infra" / "envs" / "dev.tfvars"
    settings = {"vpc_id": json.dumps(platform.vpc_id), "private_subnet_ids": _hcl_list(platform.private_subnet_ids),
                "route_table_ids": _hcl_list(platform.route_table_ids)}
    text = tfvars.read_text()
    for name, value in settings.items():
        text = re.sub(rf"^{name}(\s*)=.*$", lambda m, n=name, v=value: f"{n}{m.group(1)}= {v}", text, flags=re.M)
    if values.get("source_provider") == "github" and platform.connection_arn:
        text += f'connection_arn = "{platform.connection_arn}"\n'
    tfvars.write_text(text)
    backend = (f'bucket = "{platform.state_bucket}"\nkey    = "ml-factory/{values["project"]}/dev.tfstate"\n'
               f'region = "{values["aws_region"]}"\n')
    (project_dir / "infra" / "envs" / "dev.s3.tfbackend").write_text(backend)


def launch(request: VendingRequest, backend: VendingBackend, record: LaunchRecord) -> dict[str, str]:
    """Every step of a launch; raises VendingError naming the failed step."""
    given, record.values = _step("validate the template inputs", lambda: validate(request))
    record.project_dir = _step("render the template", lambda: render(request, given, record.values))
    record.repository_url = _step("create the repository", lambda: backend.create_repository(record.values))
    record.applied = True  # a failed apply may have made part of the stack: destroy it on the way out
    _step("apply the dev stage's Terraform", lambda: backend.terraform_apply(record.project_dir))
    _step("push the rendered repo", lambda: backend.push(record.project_dir, record.repository_url))
    return {"RepositoryUrl": record.repository_url, "BuildLogUrl": request.platform.build_log_url}


def _step(name: str, action: Any) -> Any:
    try:
        return action()
    except VendingError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of a step is reported to the stack with its name
        raise VendingError(f"{name} failed: {exc}") from exc


def undo(backend: VendingBackend, record: LaunchRecord) -> None:
    """Remove what a failed launch made, newest first; a failed removal is named in the reason."""
    if record.applied and record.project_dir is not None:
        try:
            backend.terraform_destroy(record.project_dir)
            record.undone.append("Terraform destroyed")
        except Exception as exc:  # noqa: BLE001 - keep undoing; the reason names what is left
            record.undone.append(f"Terraform destroy FAILED ({exc}); remove the dev stack by hand")
    if record.repository_url:
        try:
            backend.delete_repository(record.values)
            record.undone.append("repository deleted")
        except Exception as exc:  # noqa: BLE001
            record.undone.append(f"repository NOT deleted ({exc})")


def run(request: VendingRequest, backend: VendingBackend) -> int:
    """Launch, answer the stack, and return the build's exit code."""
    record = LaunchRecord()
    try:
        data = launch(request, backend, record)
    except VendingError as exc:
        undo(backend, record)
        cleanup = f" ({'; '.join(record.undone)})" if record.undone else ""
        request.response.send("FAILED", f"{exc}{cleanup}")
        print(f"error: {exc}{cleanup}", file=sys.stderr)
        return 1
    request.response.send("SUCCESS", data=data)
    print(f"launched {data['RepositoryUrl']}")
    return 0


def request_from_environment(env: Mapping[str, str], work_dir: Path) -> VendingRequest:
    """The request the vending function put into the build's environment."""
    response = StackResponse(env["CFN_RESPONSE_URL"], env["CFN_STACK_ID"], env["CFN_REQUEST_ID"],
                             env["CFN_LOGICAL_RESOURCE_ID"], env["CFN_PHYSICAL_RESOURCE_ID"])
    platform = PlatformSettings(
        github_owner=env.get("GITHUB_OWNER", ""), connection_arn=env.get("CONNECTION_ARN", ""),
        vpc_id=env["VPC_ID"], private_subnet_ids=tuple(env["PRIVATE_SUBNET_IDS"].split(",")),
        route_table_ids=tuple(env["ROUTE_TABLE_IDS"].split(",")), state_bucket=env["STATE_BUCKET"],
        build_log_url=env.get("CODEBUILD_BUILD_URL", ""))  # CodeBuild sets it: the build's page and log
    return VendingRequest(json.loads(env["TEMPLATE_INPUTS"]), response, platform, work_dir)


def main() -> int:
    from hooks.studio_backend import AwsVendingBackend

    request = request_from_environment(os.environ, Path(os.environ.get("VENDING_WORK_DIR", "/tmp/vending")))
    code = run(request, AwsVendingBackend.from_environment(os.environ))
    ANSWERED_MARKER.touch()
    return code


if __name__ == "__main__":
    sys.exit(main())
