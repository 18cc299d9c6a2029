"""Which model package a deploy serves, and what in it the endpoint needs; the same rule for both backends.

Only an Approved package is served: a named one that is not Approved is refused (nothing is created),
and without a name the newest Approved version of the group is chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.errors import UserError
from pipelines.registry_model import APPROVED, PackageVersion


class DeployRefused(UserError):
    """The deploy cannot go ahead (package not Approved, not tested in staging, ...); nothing was changed."""


def select_package(versions: list[PackageVersion], group: str, package_arn: str | None, where: str) -> PackageVersion:
    """The named package, or the newest Approved one; DeployRefused unless it is Approved."""
    if package_arn:
        package = next((v for v in versions if v.arn == package_arn), None)
        if package is None:
            raise DeployRefused(f"model package {package_arn} is not in group {group!r} ({where}); "
                                "check the ARN with `python -m pipelines.registry list`")
    else:
        package = next((v for v in versions if v.status == APPROVED), None)
        if package is None:
            raise DeployRefused(f"no Approved model in group {group!r} ({where}); approve one with "
                                "`python -m pipelines.registry approve VERSION --reason \"...\"`")
    if package.status != APPROVED:
        raise DeployRefused(f"{package.group} version {package.version} is {package.status}, not Approved; only "
                            "approved models are deployed (python -m pipelines.registry approve "
                            f"{package.version} --reason \"...\"); nothing was created")
    return package


@dataclass(frozen=True)
class ServingFiles:
    """The package's serving container, as its InferenceSpecification declares it."""

    image: str
    model_data_url: str
    code_url: str  # SAGEMAKER_SUBMIT_DIRECTORY
    program: str  # SAGEMAKER_PROGRAM
    content_types: tuple[str, ...]


def serving_files(package: PackageVersion) -> ServingFiles:
    spec = package.inference_specification or {}
    containers = spec.get("Containers") or []
    if not containers:
        raise DeployRefused(f"{package.group} version {package.version} has no InferenceSpecification container "
                            "(registered before packages recorded one); run the pipeline again and approve the new "
                            "version")
    container = containers[0]
    environment = container.get("Environment") or {}
    return ServingFiles(image=container.get("Image", ""),
                        model_data_url=container.get("ModelDataUrl") or package.model_data_url,
                        code_url=environment.get("SAGEMAKER_SUBMIT_DIRECTORY", ""),
                        program=environment.get("SAGEMAKER_PROGRAM", "inference.py"),
                        content_types=tuple(spec.get("SupportedContentTypes") or ("text/csv", "application/json")))
