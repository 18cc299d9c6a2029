"""One pipeline execution's identity: the values of the definition's execution variables."""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

_ID_ALPHABET = string.ascii_lowercase + string.digits


def new_execution_id() -> str:
    """12 lowercase letters and digits, as SageMaker's execution ids."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Execution:
    pipeline_name: str
    execution_id: str
    region: str
    account_id: str
    started: datetime

    @classmethod
    def new(cls, pipeline_name: str, region: str, account_id: str) -> Execution:
        return cls(pipeline_name, new_execution_id(), region, account_id, datetime.now(UTC))

    @property
    def pipeline_arn(self) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:pipeline/{self.pipeline_name.lower()}"

    @property
    def arn(self) -> str:
        return f"{self.pipeline_arn}/execution/{self.execution_id}"

    def variable(self, name: str) -> Any:
        values = {
            "PipelineExecutionId": self.execution_id,
            "PipelineExecutionArn": self.arn,
            "PipelineName": self.pipeline_name,
            "PipelineArn": self.pipeline_arn,
            "StartDateTime": _timestamp(self.started),
            "CurrentDateTime": _timestamp(datetime.now(UTC)),
        }
        if name not in values:
            from pipelines.engine.expressions import ExpressionError

            raise ExpressionError(f"unknown execution variable Execution.{name}; "
                                  f"the local engine knows {', '.join(values)}")
        return values[name]

    def job_name(self, step: str) -> str:
        """`pipelines-<execution-id>-<step>-<token>` as the service names a step's job (63 chars at most)."""
        cleaned = re.sub(r"[^A-Za-z0-9-]+", "-", step).strip("-") or "step"
        token = secrets.token_hex(5)
        return f"pipelines-{self.execution_id}-{cleaned}"[: 63 - len(token) - 1] + f"-{token}"

    def job_arn(self, kind: str, name: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:{kind}/{name.lower()}"
