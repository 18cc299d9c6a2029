"""The price table and its refresh from the AWS Price List API (botocore Stubber: no network)."""

from __future__ import annotations

import datetime
import json
import shutil

import boto3
import pytest
from botocore.stub import Stubber

from pipelines.config import ProcessingConfig, TrainingConfig
from pipelines.errors import UserError, run_cli
from pipelines.finops import prices

REGION = "eu-west-1"


def product(instance: str, component: str, usd: str, usagetype: str = "EU-Train:ml") -> str:
    """One GetProducts PriceList entry as the API returns it: a JSON document in a string."""
    return json.dumps({
        "product": {"productFamily": "ML Instance", "attributes": {
            "instanceName": instance, "component": component, "regionCode": REGION, "usagetype": usagetype}},
        "terms": {"OnDemand": {"SKU.TERM": {"priceDimensions": {"SKU.TERM.DIM": {
            "unit": "Hrs", "pricePerUnit": {"USD": usd}}}}}},
    })


def expect_products(stubber: Stubber, component: str, items: list[str], token: str | None = None,
                    next_token: str | None = None) -> None:
    params = {"ServiceCode": "AmazonSageMaker", "FormatVersion": "aws_v1", "MaxResults": 100,
              "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": REGION},
                          {"Type": "TERM_MATCH", "Field": "component", "Value": component}]}
    if token:
        params["NextToken"] = token
    response = {"FormatVersion": "aws_v1", "PriceList": items}
    if next_token:
        response["NextToken"] = next_token
    stubber.add_response("get_products", response, params)


@pytest.fixture
def pricing(monkeypatch):
    client = boto3.client("pricing", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    monkeypatch.setattr(prices, "pricing_client", lambda: client)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "prices.json"
    shutil.copy(prices.PRICE_TABLE, path)
    return path


def test_refresh_replaces_the_region_with_the_price_list_apis_on_demand_prices(pricing, table, capsys):
    expect_products(pricing, "Training", [product("ml.m5.xlarge", "Training", "0.2690000000"),
                                          product("ml.m5.xlarge", "Training", "0.0800", "EU-Train-Spot:ml")],
                    next_token="page2")
    expect_products(pricing, "Training", [product("ml.c5.xlarge", "Training", "0.2420")], token="page2")
    expect_products(pricing, "Processing", [product("ml.m5.large", "Processing", "0.1340")])
    expect_products(pricing, "Hosting", [product("ml.m5.large", "Hosting", "0.1340")])
    before = json.loads(table.read_text())

    assert run_cli(prices.main, ["--refresh", "--region", REGION, "--table", str(table)]) == 0

    after = json.loads(table.read_text())
    assert after["regions"][REGION] == {"training": {"ml.c5.xlarge": 0.242, "ml.m5.xlarge": 0.269},
                                        "processing": {"ml.m5.large": 0.134}, "hosting": {"ml.m5.large": 0.134}}
    assert after["regions"]["us-east-1"] == before["regions"]["us-east-1"]  # other regions untouched
    assert after["taken"] == datetime.date.today().isoformat()
    assert "AWS Price List API" in after["source"] and after["spot_discount"] == before["spot_discount"]
    out = capsys.readouterr().out
    assert "ml.m5.xlarge" in out and "0.2690" in out


def test_a_region_without_prices_is_refused_and_the_table_left_unchanged(pricing, table, capsys):
    for component in ("Training", "Processing", "Hosting"):
        expect_products(pricing, component, [])
    before = table.read_text()
    assert run_cli(prices.main, ["--refresh", "--region", REGION, "--table", str(table)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the AWS Price List API returned no SageMaker training, processing, hosting prices "
                          f"for region {REGION}") and "Traceback" not in err
    assert table.read_text() == before


def test_an_api_error_is_one_line_and_leaves_the_table(pricing, table, capsys):
    pricing.add_client_error("get_products", service_error_code="AccessDeniedException",
                             service_message="not authorized to perform: pricing:GetProducts", http_status_code=400)
    before = table.read_text()
    assert run_cli(prices.main, ["--refresh", "--region", REGION, "--table", str(table)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("error: reading the AWS Price List API (pricing:GetProducts) failed: AccessDeniedException: "
                           "not authorized to perform: pricing:GetProducts")
    assert table.read_text() == before


def test_an_unknown_instance_type_names_the_type_and_the_table():
    table = prices.load_prices()
    with pytest.raises(UserError) as caught:
        table.hourly(REGION, "training", "ml.p9.mega")
    message = str(caught.value)
    assert "ml.p9.mega" in message and str(prices.PRICE_TABLE) in message and "--refresh --region eu-west-1" in message


def test_the_shipped_table_prices_the_defaults_in_every_region_and_says_where_it_comes_from():
    from pipelines.sdk import load_sdk

    load_sdk(REGION)  # the step builders import the SDK, which needs a region
    from pipelines.steps.register import INFERENCE_INSTANCES

    table = prices.load_prices()
    assert table.taken and "pricing" in table.source.lower() and 0 < table.spot_discount < 1
    for region in table.prices:
        assert table.hourly(region, "training", TrainingConfig().instance_type) > 0
        assert table.hourly(region, "processing", ProcessingConfig().instance_type) > 0
        for instance in INFERENCE_INSTANCES:
            assert table.hourly(region, "hosting", instance) > 0
