"""The side effects of a Studio launch (hooks/studio_vend.py): the team's repo on GitHub or CodeCommit, git,
and the dev stage's Terraform. Runs inside the studio-launch module's CodeBuild project.

GitHub repos are created through the REST API with the platform's token (a GitHub App installation or
fine-grained token in Secrets Manager, `GITHUB_TOKEN_SECRET_ARN`): CodeConnections lets AWS services read and
watch a repo, it cannot create one. The team's pipeline then reads the repo through the connection.
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GIT_AUTHOR = ("-c", "user.name=ML Factory vending", "-c", "user.email=ml-factory-vending@noreply.local")
CODECOMMIT_HELPER = ("-c", "credential.helper=!aws codecommit credential-helper $@",
                     "-c", "credential.UseHttpPath=true")


@dataclass(frozen=True)
class BackendSettings:
    github_api_url: str
    github_owner: str
    github_token_secret_arn: str
    terraform: str = "terraform"


def _run(command: list[str], cwd: Path, secret: str = "") -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()
        raise RuntimeError(f"{command[0]} {command[1] if len(command) > 1 else ''} exited "
                           f"{done.returncode}: {lines[-1].replace(secret, '***') if secret else lines[-1]}")


def _tags(values: Mapping[str, str]) -> dict[str, str]:
    return {"Project": values["project"], "Team": values["team"], "Owner": values["owner_email"],
            "CostCenter": values["cost_center"], "ManagedBy": "ml-factory-studio-launch"}


class AwsVendingBackend:
    def __init__(self, settings: BackendSettings, session: Any = None):
        import boto3

        self.settings = settings
        self.session = session or boto3.session.Session()
        self._token = ""

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> AwsVendingBackend:
        return cls(BackendSettings(env.get("GITHUB_API_URL", "https://api.github.com"), env.get("GITHUB_OWNER", ""),
                                   env.get("GITHUB_TOKEN_SECRET_ARN", ""), env.get("TERRAFORM", "terraform")))

    def _github_token(self) -> str:
        if not self._token:
            secrets = self.session.client("secretsmanager")
            self._token = secrets.get_secret_value(SecretId=self.settings.github_token_secret_arn)["SecretString"]
        return self._token

    def _github(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.settings.github_api_url}{path}", method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self._github_token()}", "Accept": "application/vnd.github+json"})
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - the configured GitHub API
            text = answer.read()
        return json.loads(text) if text else {}

    def create_repository(self, values: Mapping[str, str]) -> str:
        if values["source_provider"] == "codecommit":
            created = self.session.client("codecommit").create_repository(
                repositoryName=values["project"], tags=_tags(values),
                repositoryDescription=f"{values['project_name']}: ML Factory project (launched from Studio)")
            return created["repositoryMetadata"]["cloneUrlHttp"]
        owner, name = values["github_repository"].split("/", 1)
        created = self._github("POST", f"/orgs/{owner}/repos", {"name": name, "private": True,
                                                                "description": values["project_name"]})
        return created["clone_url"]

    def delete_repository(self, values: Mapping[str, str]) -> None:
        if values["source_provider"] == "codecommit":
            self.session.client("codecommit").delete_repository(repositoryName=values["project"])
        else:
            self._github("DELETE", f"/repos/{values['github_repository']}")

    def push(self, project_dir: Path, repository_url: str) -> None:
        _run(["git", "init", "-q", "-b", "main"], project_dir)
        _run(["git", "add", "-A"], project_dir)
        _run(["git", *GIT_AUTHOR, "commit", "-q", "-m", "Project launched from SageMaker Studio"], project_dir)
        if "codecommit" in repository_url:
            _run(["git", *CODECOMMIT_HELPER, "push", "-q", repository_url, "main"], project_dir)
            return
        token = self._github_token()
        authed = repository_url.replace("https://", f"https://x-access-token:{token}@", 1)
        _run(["git", "push", "-q", authed, "main"], project_dir, secret=token)

    def _terraform(self, project_dir: Path, *args: str) -> None:
        _run([self.settings.terraform, "-chdir=infra", *args, "-input=false", "-no-color"], project_dir)

    def terraform_apply(self, project_dir: Path) -> None:
        self._terraform(project_dir, "init", "-backend-config=envs/dev.s3.tfbackend")
        self._terraform(project_dir, "apply", "-auto-approve", "-var-file=envs/dev.tfvars")

    def terraform_destroy(self, project_dir: Path) -> None:
        self._terraform(project_dir, "destroy", "-auto-approve", "-var-file=envs/dev.tfvars")
