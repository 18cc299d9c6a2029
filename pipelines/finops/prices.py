"""The price table (`pipelines/finops/prices.json`): on-demand USD per instance hour, per region, usage
(training, processing, hosting) and instance type, with the date it was taken and its source, plus
the Spot discount the estimate assumes.

`python -m pipelines.finops.prices --region R` prints one region's prices; `--refresh` replaces them
with AWS's own, read from the AWS Price List API (GetProducts, ServiceCode AmazonSageMaker, one
filtered query per usage: `regionCode` and `component` = Training / Processing / Hosting).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.errors import UserError, run_cli

PRICE_TABLE = Path(__file__).resolve().parent / "prices.json"
USAGES = ("training", "processing", "hosting")
# The Price List API's `component` attribute of a SageMaker instance product, per usage.
COMPONENTS = {"training": "Training", "processing": "Processing", "hosting": "Hosting"}
PRICING_REGION = "us-east-1"  # the Price List API answers from us-east-1 (and two other regions)
SERVICE_CODE = "AmazonSageMaker"


class UnknownPriceError(UserError):
    """The table has no price for an instance type; the message names the type, the table and the fix."""


@dataclass(frozen=True)
class PriceTable:
    """On-demand USD per instance hour: prices[region][usage][instance type]."""

    prices: dict[str, dict[str, dict[str, float]]]
    taken: str
    source: str
    spot_discount: float  # the fraction of the on-demand price Spot is assumed to save
    path: Path = PRICE_TABLE
    notes: dict[str, Any] = field(default_factory=dict)  # other keys of the file, kept on write

    def hourly(self, region: str, usage: str, instance_type: str) -> float:
        """On-demand USD per hour of one instance; an unknown type is a UserError naming the fix."""
        known = self.prices.get(region, {}).get(usage, {})
        if instance_type not in known:
            raise UnknownPriceError(
                f"no {usage} price for instance type {instance_type} in {region} in the price table {self.path} "
                f"(taken {self.taken}); add it there or run `python -m pipelines.finops.prices --refresh "
                f"--region {region}`")
        return known[instance_type]

    def spot_hourly(self, region: str, usage: str, instance_type: str) -> float:
        return self.hourly(region, usage, instance_type) * (1 - self.spot_discount)

    def to_json(self) -> str:
        data = {**self.notes, "taken": self.taken, "source": self.source, "spot_discount": self.spot_discount,
                "regions": self.prices}
        return json.dumps(data, indent=2, sort_keys=True) + "\n"


def load_prices(path: Path = PRICE_TABLE) -> PriceTable:
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise UserError(f"price table {path} not found; restore pipelines/finops/prices.json from git") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"price table {path} is not valid JSON: {exc}") from None
    discount = data.get("spot_discount")
    if not isinstance(discount, int | float) or not 0 <= discount < 1:
        raise UserError(f"price table {path}: spot_discount must be a fraction in [0, 1), got {discount!r}")
    notes = {k: v for k, v in data.items() if k not in ("taken", "source", "spot_discount", "regions")}
    return PriceTable(prices=data.get("regions", {}), taken=str(data.get("taken", "unknown")),
                      source=str(data.get("source", "unknown")), spot_discount=float(discount), path=Path(path),
                      notes=notes)


################################################################################
# Refresh from the AWS Price List API
################################################################################


def _products(pricing: Any, region: str, component: str) -> Iterator[dict[str, Any]]:
    kwargs: dict[str, Any] = {
        "ServiceCode": SERVICE_CODE, "FormatVersion": "aws_v1", "MaxResults": 100,
        "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region},
                    {"Type": "TERM_MATCH", "Field": "component", "Value": component}],
    }
    while True:
        page = pricing.get_products(**kwargs)
        for item in page.get("PriceList", []):
            yield json.loads(item) if isinstance(item, str) else item
        if not page.get("NextToken"):
            return
        kwargs["NextToken"] = page["NextToken"]


def _on_demand_hourly(product: dict[str, Any]) -> tuple[str, float] | None:
    """(instance type, USD per hour) of an on-demand SageMaker instance product, else None."""
    attributes = product.get("product", {}).get("attributes", {})
    instance = attributes.get("instanceName") or attributes.get("instanceType") or ""
    if not instance.startswith("ml.") or "spot" in attributes.get("usagetype", "").lower():
        return None
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        for dimension in term.get("priceDimensions", {}).values():
            usd = dimension.get("pricePerUnit", {}).get("USD")
            if dimension.get("unit", "").lower().startswith("hr") and usd and float(usd) > 0:
                return instance, float(usd)
    return None


def fetch_region_prices(pricing: Any, region: str) -> dict[str, dict[str, float]]:
    """{usage: {instance type: USD per hour}} for one region, from the Price List API."""
    from botocore.exceptions import BotoCoreError, ClientError

    from pipelines.aws import client_error_message

    prices: dict[str, dict[str, float]] = {}
    try:
        for usage, component in COMPONENTS.items():
            found = (_on_demand_hourly(p) for p in _products(pricing, region, component))
            prices[usage] = dict(sorted(pair for pair in found if pair))
    except (ClientError, BotoCoreError) as exc:
        raise UserError(f"reading the AWS Price List API (pricing:GetProducts) failed: "
                        f"{client_error_message(exc)}") from None
    empty = [usage for usage, table in prices.items() if not table]
    if empty:
        raise UserError(f"the AWS Price List API returned no SageMaker {', '.join(empty)} prices for region "
                        f"{region}; check the region code (e.g. eu-west-1); the table was left unchanged")
    return prices


def refresh(table: PriceTable, pricing: Any, region: str, today: datetime.date) -> PriceTable:
    """The table with `region` replaced by the Price List API's prices, dated `today`."""
    prices = {**table.prices, region: fetch_region_prices(pricing, region)}
    source = (f"AWS Price List API (GetProducts, ServiceCode {SERVICE_CODE}, on-demand) for {region} on "
              f"{today.isoformat()}; other regions as before: {table.source}")
    return PriceTable(prices=prices, taken=today.isoformat(), source=source, spot_discount=table.spot_discount,
                      path=table.path, notes=table.notes)


def format_region(table: PriceTable, region: str) -> str:
    rows = table.prices.get(region)
    if not rows:
        raise UserError(f"the price table {table.path} has no prices for {region}; run "
                        f"`python -m pipelines.finops.prices --refresh --region {region}`")
    lines = [f"prices for {region} (USD per instance hour, on-demand; taken {table.taken}; Spot assumed "
             f"{table.spot_discount:.0%} cheaper)", f"source: {table.source}"]
    for usage in USAGES:
        for instance, price in sorted(rows.get(usage, {}).items()):
            lines.append(f"  {usage:<11} {instance:<16} {price:>8.4f}")
    return "\n".join(lines)


def pricing_client() -> Any:
    from pipelines.aws import aws_session

    return aws_session(PRICING_REGION).client("pricing", region_name=PRICING_REGION)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipelines.finops.prices", description=__doc__.split("\n\n")[0])
    parser.add_argument("--region", required=True, help="AWS region code, e.g. eu-west-1")
    parser.add_argument("--refresh", action="store_true", help="replace the region's prices with the Price List API's")
    parser.add_argument("--table", type=Path, default=PRICE_TABLE, help=f"price table (default: {PRICE_TABLE})")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    table = load_prices(args.table)
    if args.refresh:
        table = refresh(table, pricing_client(), args.region, datetime.date.today())
        args.table.write_text(table.to_json())  # written only once every usage was read
        counts = ", ".join(f"{len(v)} {k}" for k, v in table.prices[args.region].items())
        print(f"refreshed {args.region} in {args.table}: {counts} prices", file=sys.stderr)
    print(format_region(table, args.region))
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
