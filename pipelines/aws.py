"""AWS clients for the cloud paths, with the two user errors everyone hits first."""

from __future__ import annotations

from typing import Any

from pipelines.errors import UserError


class AwsAccessError(UserError):
    """No usable credentials or region; the message says how to get them."""


def aws_session(region: str) -> Any:
    """A boto3 session for `region` whose credentials are known to exist."""
    import boto3

    session = boto3.Session(region_name=region)
    if session.get_credentials() is None:
        raise AwsAccessError(
            "no AWS credentials found: configure a profile (aws configure, AWS_PROFILE) or "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; to work without AWS use --dry-run or --local"
        )
    return session


def client_error_message(exc: Exception) -> str:
    """`Code: message` of a botocore ClientError, or the exception text."""
    response = getattr(exc, "response", None) or {}
    error = response.get("Error", {})
    return f"{error.get('Code', type(exc).__name__)}: {error.get('Message', exc)}"
