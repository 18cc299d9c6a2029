"""EventBridge rules of our modules, evaluated by moto's EventBridge (in-process): moto 5.2.5 has no
TestEventPattern, so a rule with the pattern delivers to an SQS queue standing in for its target, and a delivered
message is an event the rule would act on, with the input its target would receive.

Patterns and input templates are read from a module's `.tftpl` files and filled as Terraform's templatefile() does
for plain values (`rendered`).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

REGION = "eu-west-1"
MOTO_ACCOUNT = "123456789012"  # the account moto puts events from


def rendered(template: Path, **values: str) -> str:
    """A .tftpl file with its ${name} placeholders filled, as templatefile() does for strings."""
    text = template.read_text()
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    assert "${" not in text, f"{template.name}: unfilled placeholder"
    return text


@cache
def _clients() -> tuple[Any, Any]:
    """Made once (the slow part), used in each call's fresh mock: moto intercepts clients made before it starts."""
    return tuple(boto3.client(name, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
                 for name in ("events", "sqs"))


def delivered(pattern: str, entries: list[dict[str, Any]], transformer: dict[str, Any] | None = None) -> list[Any]:
    """Put PutEvents `entries` on moto's default bus under one rule with `pattern`; the inputs its target receives
    (with `transformer`, the InputTransformer's output)."""
    bus, sqs = _clients()
    with mock_aws():
        url = sqs.create_queue(QueueName="rule-target")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        bus.put_rule(Name="rule", EventPattern=pattern)
        target: dict[str, Any] = {"Id": "target", "Arn": queue_arn}
        if transformer is not None:
            target["InputTransformer"] = transformer
        bus.put_targets(Rule="rule", Targets=[target])
        for entry in entries:
            assert bus.put_events(Entries=[entry])["FailedEntryCount"] == 0
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]


def entry(source: str, detail_type: str, detail: dict[str, Any], resources: list[str] | None = None) -> dict[str, Any]:
    """One PutEvents entry."""
    return {"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail), "Resources": resources or []}
