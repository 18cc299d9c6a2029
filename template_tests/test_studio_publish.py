"""`python -m hooks.publish_studio_template`: the S3 route (CreateProject with TemplateProviders, checked with the
Stubber against SageMaker's service model) and the Service Catalog route (product, portfolio, association)."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from hooks.bundle import LAUNCH_TEMPLATE, SOURCE_BUNDLE
from hooks.publish_studio_template import Clients, PublishError, PublishRequest, publish

REGION = "eu-west-1"
BUCKET = "ml-factory-studio-templates"
ROLE = "arn:aws:iam::111111111111:role/ml-factory-studio-launch"
PROJECT_ARN = "arn:aws:sagemaker:eu-west-1:111111111111:project/fraud-detector"
URL = f"https://{BUCKET}.s3.{REGION}.amazonaws.com/releases/1.4.0/{LAUNCH_TEMPLATE}"


@pytest.fixture
def bundle_dir(tmp_path: Path) -> Path:
    (tmp_path / LAUNCH_TEMPLATE).write_text("AWSTemplateFormatVersion: '2010-09-09'\n")
    (tmp_path / SOURCE_BUNDLE).write_bytes(b"bundle")
    return tmp_path


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield client


def request(bundle_dir: Path, route: str = "s3", **fields) -> PublishRequest:
    return PublishRequest(route, BUCKET, bundle_dir, "1.4.0", REGION, **fields)


def test_s3_route_uploads_a_studio_visible_template_and_creates_the_project(s3, bundle_dir) -> None:
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    expected = {"ProjectName": "fraud-detector", "ProjectDescription": "ML Factory project (template 1.4.0)",
                "TemplateProviders": [{"CfnTemplateProvider": {
                    "TemplateName": "ml-factory", "TemplateURL": URL, "RoleARN": ROLE,
                    "Parameters": [{"Key": "ProblemType", "Value": "regression"}, {"Key": "Team", "Value": "fraud"}]}}]}
    with Stubber(sagemaker) as stub:
        stub.add_response("create_project", {"ProjectArn": PROJECT_ARN, "ProjectId": "p-1"}, expected)
        lines = publish(request(bundle_dir, launch_role_arn=ROLE, project_name="fraud-detector",
                                parameters={"team": "fraud", "problem_type": "regression"}), Clients(s3, sagemaker))
        stub.assert_no_pending_responses()
    assert lines == [f"published {URL}", f"created project {PROJECT_ARN}"]
    tags = s3.get_object_tagging(Bucket=BUCKET, Key=f"releases/1.4.0/{LAUNCH_TEMPLATE}")["TagSet"]
    assert tags == [{"Key": "sagemaker:studio-visibility", "Value": "true"}]
    assert s3.get_object(Bucket=BUCKET, Key=f"releases/1.4.0/{SOURCE_BUNDLE}")["Body"].read() == b"bundle"


@pytest.mark.parametrize("param, message", [
    ({"aws_region": "mars-1"}, "--param aws_region='mars-1': must be an AWS region code"),
    ({"use_spot": "maybe"}, "--param use_spot='maybe': must be one of yes, no"),
    ({"colour": "red"}, "--param colour: not a template input"),
])
def test_a_bad_parameter_stops_before_anything_is_uploaded(s3, bundle_dir, param, message) -> None:
    with pytest.raises(PublishError) as failure:
        publish(request(bundle_dir, launch_role_arn=ROLE, project_name="p1x", parameters=param), Clients(s3))
    assert str(failure.value).startswith(message)
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_a_missing_bundle_names_the_command_that_makes_it(s3, tmp_path) -> None:
    with pytest.raises(PublishError, match=r"launch-template.yaml is missing; run `python -m hooks.bundle"):
        publish(request(tmp_path / "nowhere"), Clients(s3))


def _catalog_stub(stub: Stubber, portfolios: list[str], tags: list[dict], principals: int) -> None:
    stub.add_response("list_portfolios_for_product", {"PortfolioDetails": [
        {"Id": p, "ARN": f"arn:aws:catalog:eu-west-1:111111111111:portfolio/{p}", "DisplayName": "ML Factory",
         "ProviderName": "ML platform team"} for p in portfolios]}, {"ProductId": "prod-abc"})
    if "port-1" not in portfolios:
        return
    stub.add_response("describe_product_as_admin", {"Tags": tags}, {"Id": "prod-abc"})
    if not tags:
        return
    stub.add_response("list_principals_for_portfolio", {"Principals": [
        {"PrincipalARN": ROLE, "PrincipalType": "IAM"}] * principals}, {"PortfolioId": "port-1"})


def test_service_catalog_route_checks_product_portfolio_association_and_adds_the_version(s3, bundle_dir) -> None:
    catalog = boto3.client("servicecatalog", region_name=REGION)
    with Stubber(catalog) as stub:
        _catalog_stub(stub, ["port-1"], [{"Key": "sagemaker:studio-visibility", "Value": "true"}], 1)
        stub.add_response("list_provisioning_artifacts", {"ProvisioningArtifactDetails": [
            {"Id": "pa-old", "Name": "1.3.0"}]}, {"ProductId": "prod-abc"})
        stub.add_response("create_provisioning_artifact", {"ProvisioningArtifactDetail": {"Id": "pa-new"}}, {
            "ProductId": "prod-abc", "IdempotencyToken": "1.4.0",
            "Parameters": {"Name": "1.4.0", "Description": "ML Factory template 1.4.0",
                           "Info": {"LoadTemplateFromURL": URL}, "Type": "CLOUD_FORMATION_TEMPLATE"}})
        lines = publish(request(bundle_dir, "service-catalog", product_id="prod-abc", portfolio_id="port-1"),
                        Clients(s3, servicecatalog=catalog))
        stub.assert_no_pending_responses()
    assert lines[1] == "product prod-abc version pa-new"
    assert s3.get_object_tagging(Bucket=BUCKET, Key=f"releases/1.4.0/{LAUNCH_TEMPLATE}")["TagSet"] == []


@pytest.mark.parametrize("portfolios, tags, principals, message", [
    (["port-9"], [], 0, "product prod-abc is not in portfolio port-1"),
    (["port-1"], [], 0, "lacks the tag sagemaker:studio-visibility=true"),
    (["port-1"], [{"Key": "sagemaker:studio-visibility", "Value": "true"}], 0, "is shared with no principal"),
])
def test_service_catalog_route_names_what_the_module_left_undone(s3, bundle_dir, portfolios, tags, principals,
                                                                 message) -> None:
    catalog = boto3.client("servicecatalog", region_name=REGION)
    with Stubber(catalog) as stub:
        _catalog_stub(stub, portfolios, tags, principals)
        with pytest.raises(PublishError, match=message):
            publish(request(bundle_dir, "service-catalog", product_id="prod-abc", portfolio_id="port-1"),
                    Clients(s3, servicecatalog=catalog))
