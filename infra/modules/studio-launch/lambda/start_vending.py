"""The launch stack's custom resource (Custom::MlFactoryVending): start the vending CodeBuild job.

Create starts the build with the stack's inputs and CloudFormation's response URL; the build answers the
stack itself when it has finished (hooks/studio_vend.py), so the stack waits for the whole launch (up to
the resource's ServiceTimeout) and shows the build's reason on failure. If the build cannot start, this
answers FAILED at once. Update and Delete answer SUCCESS: a launched repo and its dev stack belong to the
team and outlive the SageMaker project; a failed launch has removed what it made before answering.
"""

from __future__ import annotations

import json
import os
import urllib.request
from typing import Any

import boto3

RESPONSE_FIELDS = ("ResponseURL", "StackId", "RequestId", "LogicalResourceId")


def respond(event: dict[str, Any], status: str, physical_id: str, reason: str = "") -> None:
    body = json.dumps({"Status": status, "Reason": reason[:1000], "PhysicalResourceId": physical_id,
                       "StackId": event["StackId"], "RequestId": event["RequestId"],
                       "LogicalResourceId": event["LogicalResourceId"], "Data": {}}).encode()
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""})
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - CloudFormation's presigned URL
        answer.read()


def build_environment(event: dict[str, Any], physical_id: str) -> list[dict[str, str]]:
    variables = {"TEMPLATE_INPUTS": json.dumps(event["ResourceProperties"]["TemplateInputs"], sort_keys=True),
                 "CFN_RESPONSE_URL": event["ResponseURL"], "CFN_STACK_ID": event["StackId"],
                 "CFN_REQUEST_ID": event["RequestId"], "CFN_LOGICAL_RESOURCE_ID": event["LogicalResourceId"],
                 "CFN_PHYSICAL_RESOURCE_ID": physical_id}
    return [{"name": name, "value": value, "type": "PLAINTEXT"} for name, value in variables.items()]


def handler(event: dict[str, Any], context: Any, codebuild: Any = None) -> None:
    physical_id = event.get("PhysicalResourceId") or event["ResourceProperties"]["TemplateInputs"]["project"]
    if event["RequestType"] != "Create":
        respond(event, "SUCCESS", physical_id)
        return
    client = codebuild or boto3.client("codebuild")
    try:
        client.start_build(projectName=os.environ["VENDING_PROJECT"],
                           environmentVariablesOverride=build_environment(event, physical_id))
    except Exception as exc:  # noqa: BLE001 - the stack must be answered whatever went wrong
        respond(event, "FAILED", physical_id, f"could not start the vending build: {exc}")
