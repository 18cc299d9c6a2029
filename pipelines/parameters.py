"""Pipeline parameters from the command line, checked against the definition they feed."""

from __future__ import annotations

from typing import Any

from pipelines.errors import UserError


class ParameterError(UserError):
    """A --param that names no parameter or has a value of the wrong type."""


def parse_assignments(items: list[str]) -> dict[str, str]:
    """`Name=Value` strings, as typed after --param."""
    parsed: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"--param {item!r} is not Name=Value (e.g. --param MetricThreshold=0.8)")
        parsed[name.strip()] = value
    return parsed


def _convert(name: str, kind: str, raw: Any) -> Any:
    if kind == "Boolean":
        if isinstance(raw, bool):
            return raw
        lowered = str(raw).strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        raise ParameterError(f"parameter {name} is Boolean: use true or false, got {raw!r}")
    if kind in ("Float", "Integer"):
        try:
            value = float(raw) if kind == "Float" else int(str(raw))
        except ValueError:
            raise ParameterError(f"parameter {name} is {kind}: {raw!r} is not a number") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise ParameterError(f"parameter {name} must be a finite number, got {raw!r}")
        return value
    return str(raw)


def resolve_parameters(definition: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Typed values for the given names; every name must be a parameter of the definition."""
    declared = {p["Name"]: p for p in definition.get("Parameters", [])}
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise ParameterError(f"unknown pipeline parameter(s) {', '.join(unknown)}; "
                             f"this pipeline takes: {', '.join(declared)}")
    resolved = {}
    for name, raw in values.items():
        spec = declared[name]
        value = _convert(name, spec["Type"], raw)
        allowed = spec.get("EnumValues")
        if allowed and value not in allowed:
            raise ParameterError(f"parameter {name} must be one of {', '.join(allowed)}, got {value!r}")
        if spec["Type"] == "String" and name == "InputDataUri" and not str(value).startswith("s3://"):
            raise ParameterError(f"parameter {name} must be an s3:// URI, got {value!r}")
        resolved[name] = value
    return resolved


def effective_values(definition: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Every parameter's value for a run: the definition's defaults, then the overrides."""
    values = {p["Name"]: p.get("DefaultValue") for p in definition.get("Parameters", [])}
    values.update(resolve_parameters(definition, overrides))
    return values


def execution_parameters(values: dict[str, Any]) -> list[dict[str, str]]:
    """The StartPipelineExecution form: every value a string, booleans lowercase."""
    def text(value: Any) -> str:
        return str(value).lower() if isinstance(value, bool) else str(value)

    return [{"Name": name, "Value": text(value)} for name, value in values.items()]
