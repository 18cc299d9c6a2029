r"""Check a request against botocore's service model: types and required members (ParamValidator)
plus the limits ParamValidator leaves to the service (length, pattern, enum, numeric range).

AWS patterns are Java regular expressions, some with `\p{..}` classes; the `regex` module reads
those. The value must match the whole pattern, as the service's validation does: many patterns,
like job names' `[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`, carry no anchors and would accept anything
containing one letter if merely searched for.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import botocore.session
import regex
from botocore.model import OperationModel, Shape
from botocore.validate import ParamValidator


@cache
def service_model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def operation_model(service: str, operation: str) -> OperationModel:
    return service_model(service).operation_model(operation)


@cache
def _pattern(text: str) -> Any:
    # Java spells the astral planes as a UTF-16 surrogate-pair range (application-autoscaling's ResourceId)
    return regex.compile(text.replace("\\uD800\\uDC00-\\uDBFF\\uDFFF", "\\U00010000-\\U0010FFFF"))


def _size(value: Any) -> int | None:
    if isinstance(value, str | bytes | list | dict):
        return len(value)
    return None


def limit_problems(shape: Shape, value: Any, path: str) -> list[str]:
    """Length, pattern, enum and range violations of `value` (ParamValidator checks none of them)."""
    meta = shape.metadata
    problems: list[str] = []
    size = _size(value)
    if size is not None and shape.type_name in ("string", "blob", "list", "map"):
        if "min" in meta and size < meta["min"]:
            problems.append(f"{path}: length {size} is below the minimum {meta['min']}")
        if "max" in meta and size > meta["max"]:
            problems.append(f"{path}: length {size} exceeds the maximum {meta['max']}")
    if shape.type_name in ("integer", "long", "float", "double") and isinstance(value, int | float):
        if "min" in meta and value < meta["min"]:
            problems.append(f"{path}: {value} is below the minimum {meta['min']}")
        if "max" in meta and value > meta["max"]:
            problems.append(f"{path}: {value} exceeds the maximum {meta['max']}")
    if shape.type_name == "string" and isinstance(value, str):
        if shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} is not one of {', '.join(shape.enum)}")
        if "pattern" in meta and not _pattern(meta["pattern"]).fullmatch(value):
            problems.append(f"{path}: {value[:80]!r} does not match the pattern {meta['pattern']}")
    return problems + _member_problems(shape, value, path)


def _member_problems(shape: Shape, value: Any, path: str) -> list[str]:
    problems: list[str] = []
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, member in value.items():
            if name in shape.members:
                problems += limit_problems(shape.members[name], member, f"{path}.{name}")
    elif shape.type_name == "list" and isinstance(value, list):
        for index, item in enumerate(value):
            problems += limit_problems(shape.member, item, f"{path}[{index}]")
    elif shape.type_name == "map" and isinstance(value, dict):
        for key, item in value.items():
            problems += limit_problems(shape.key, key, f"{path}.<key {key!r}>")
            problems += limit_problems(shape.value, item, f"{path}[{key!r}]")
    return problems


def request_problems(service: str, operation: str, params: dict[str, Any]) -> list[str]:
    """Every way `params` is not a valid `operation` request, one line each (empty when valid)."""
    model = operation_model(service, operation)
    report = ParamValidator().validate(params, model.input_shape)
    where = f"{service}.{operation}"
    problems = [f"{where}: {line.strip()}" for line in report.generate_report().splitlines()[1:] if line.strip()]
    return problems + limit_problems(model.input_shape, params, where)


def member_shape(service: str, operation: str, member: str) -> Shape:
    return operation_model(service, operation).input_shape.members[member]
