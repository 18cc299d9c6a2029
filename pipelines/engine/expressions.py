"""The definition's expression language, evaluated as the SageMaker Pipelines service does.

A value in a step's arguments is either plain JSON or one of these single-key objects:

  {"Get": "Parameters.<name>"}                 a pipeline parameter
  {"Get": "Execution.<variable>"}              PipelineExecutionId, PipelineName, StartDateTime, ...
  {"Get": "Steps.<step>.<property path>"}      e.g. Steps.Train.ModelArtifacts.S3ModelArtifacts,
                                               Steps.Prep.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri
  {"Std:Join": {"On": sep, "Values": [...]}}   values joined as text
  {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.<step>.PropertyFiles.<name>"}, "Path": "a.b[0].c"}}
  {"Std:JsonGet": {"S3Uri": <uri expr>, "Path": ...}}

Conditions (a ConditionStep's list is ANDed): Equals, GreaterThan, GreaterThanOrEqualTo, LessThan,
LessThanOrEqualTo ({"LeftValue", "RightValue"}), In ({"QueryValue", "Values"}), Not ({"Condition"}),
Or ({"Conditions"}).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any, Protocol

GET, JOIN, JSON_GET = "Get", "Std:Join", "Std:JsonGet"
EXPRESSION_KEYS = (GET, JOIN, JSON_GET)
COMPARISONS = ("Equals", "GreaterThan", "GreaterThanOrEqualTo", "LessThan", "LessThanOrEqualTo")
CONDITION_TYPES = (*COMPARISONS, "In", "Not", "Or")

# one step of a property path: .Name, [0], ['name'] or ["name"]
_PATH_TOKEN = re.compile(r"""\.?([A-Za-z_][\w\-:]*)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]""")


class ExpressionError(Exception):
    """An expression that cannot be evaluated; the message says which and why."""


class Scope(Protocol):
    """What an expression can see while a pipeline runs."""

    def parameter(self, name: str) -> Any: ...

    def execution_variable(self, name: str) -> Any: ...

    def step_properties(self, step: str) -> dict[str, Any]: ...

    def property_file(self, step: str, name: str) -> Any: ...

    def read_json(self, uri: str) -> Any: ...


def is_expression(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in EXPRESSION_KEYS


def parse_path(path: str) -> list[str | int]:
    """`Outputs['train'].S3Output.S3Uri` -> ['Outputs', 'train', 'S3Output', 'S3Uri'] (ints index lists)."""
    tokens: list[str | int] = []
    position = 0
    while position < len(path):
        match = _PATH_TOKEN.match(path, position)
        if not match or match.end() == position:
            raise ExpressionError(f"cannot parse the path {path!r} at {path[position:]!r}")
        name, index, single, double = match.groups()
        if index is not None:
            tokens.append(int(index))
        else:
            tokens.append(name if name is not None else single if single is not None else double)
        position = match.end()
    return tokens


def _split_get(path: str) -> tuple[str, str, str]:
    """'Steps.Train.ModelArtifacts.S3ModelArtifacts' -> ('Steps', 'Train', 'ModelArtifacts.S3ModelArtifacts')."""
    namespace, _, rest = path.partition(".")
    if namespace == "Steps":
        step, _, tail = rest.partition(".")
        return namespace, step, tail
    return namespace, rest, ""


def walk_path(document: Any, tokens: list[str | int], where: str) -> Any:
    """Follow a parsed path into properties or a JSON document.

    A name applied to a list picks the element whose `...Name` field has that value, as the
    service does for `ProcessingOutputConfig.Outputs['train']`.
    """
    current = document
    for token in tokens:
        if isinstance(current, list):
            if isinstance(token, int):
                if token >= len(current):
                    raise ExpressionError(f"{where}: index [{token}] is out of range ({len(current)} items)")
                current = current[token]
                continue
            named = [item for item in current if isinstance(item, dict)
                     and any(k.endswith("Name") and v == token for k, v in item.items())]
            if not named:
                raise ExpressionError(f"{where}: no item named {token!r}")
            current = named[0]
        elif isinstance(current, dict):
            if token not in current:
                raise ExpressionError(f"{where}: {token!r} not found (has: {', '.join(map(str, current)) or '-'})")
            current = current[token]
        else:
            raise ExpressionError(f"{where}: cannot look up {token!r} in a {type(current).__name__}")
    return current


def to_text(value: Any) -> str:
    """A value as Std:Join renders it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def evaluate(value: Any, scope: Scope) -> Any:
    """`value` with every expression inside it replaced by its value."""
    if is_expression(value):
        (kind, body), = value.items()
        if kind == GET:
            return evaluate_get(body, scope)
        if kind == JOIN:
            if not isinstance(body, dict) or not isinstance(body.get("Values"), list):
                raise ExpressionError(f"Std:Join needs On and a list of Values, got {body!r}")
            return str(body.get("On", "")).join(to_text(evaluate(v, scope)) for v in body["Values"])
        return evaluate_json_get(body, scope)
    if isinstance(value, dict):
        return {key: evaluate(item, scope) for key, item in value.items()}
    if isinstance(value, list):
        return [evaluate(item, scope) for item in value]
    return value


def evaluate_get(path: str, scope: Scope) -> Any:
    namespace, name, tail = _split_get(path)
    if namespace == "Parameters":
        return scope.parameter(name)
    if namespace == "Execution":
        return scope.execution_variable(name)
    if namespace == "Steps":
        if not name:
            raise ExpressionError(f"Get {path!r} names no step")
        properties = scope.step_properties(name)
        return walk_path(properties, parse_path(tail), f"property {path}") if tail else properties
    raise ExpressionError(f"Get {path!r}: unknown namespace {namespace!r} (Parameters, Execution or Steps)")


def evaluate_json_get(body: Any, scope: Scope) -> Any:
    if not isinstance(body, dict) or "Path" not in body:
        raise ExpressionError(f"Std:JsonGet needs a Path and a PropertyFile or S3Uri, got {body!r}")
    path = body["Path"]
    if "PropertyFile" in body:
        reference = body["PropertyFile"]
        get = reference.get(GET, "") if isinstance(reference, dict) else ""
        namespace, step, tail = _split_get(get)
        if namespace != "Steps" or not tail.startswith("PropertyFiles."):
            raise ExpressionError(
                f"Std:JsonGet PropertyFile must be Steps.<step>.PropertyFiles.<name>, got {reference!r}")
        name = tail.removeprefix("PropertyFiles.")
        document, where = scope.property_file(step, name), f"property file {name} of step {step}"
    elif "S3Uri" in body:
        uri = evaluate(body["S3Uri"], scope)
        document, where = scope.read_json(uri), f"JSON file {uri}"
    else:
        raise ExpressionError(f"Std:JsonGet needs a PropertyFile or an S3Uri, got {body!r}")
    try:
        return walk_path(document, parse_path(path), f"JsonGet {path!r} in {where}")
    except ExpressionError:
        raise
    except Exception as exc:  # a malformed document
        raise ExpressionError(f"JsonGet {path!r} in {where}: {exc}") from None


def step_references(value: Any) -> set[str]:
    """Names of the steps whose properties or property files `value` reads (its data dependencies)."""
    found: set[str] = set()

    def visit(item: Any) -> None:
        if isinstance(item, dict):
            if len(item) == 1 and GET in item and isinstance(item[GET], str):
                namespace, step, _ = _split_get(item[GET])
                if namespace == "Steps" and step:
                    found.add(step)
                return
            for child in item.values():
                visit(child)
        elif isinstance(item, list):
            for child in item:
                visit(child)

    visit(value)
    return found


def with_parameters(value: Any, parameters: dict[str, Any]) -> Any:
    """`value` with only the parameters resolved: step properties and execution variables stay symbolic.

    This is the cache-key view of a step: the same arguments under a new execution id are the same step.
    """
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get(GET), str) and value[GET].startswith("Parameters."):
            return {"Parameter": parameters.get(value[GET].removeprefix("Parameters."))}
        return {key: with_parameters(item, parameters) for key, item in value.items()}
    if isinstance(value, list):
        return [with_parameters(item, parameters) for item in value]
    return value


# ---------------------------------------------------------------------------- conditions


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def values_equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return _boolean(left) is not None and _boolean(left) == _boolean(right)
    a, b = _number(left), _number(right)
    if a is not None and b is not None and not (isinstance(left, str) and isinstance(right, str)):
        return a == b
    return left == right


def compare(kind: str, left: Any, right: Any) -> bool:
    """One comparison condition on two evaluated values."""
    if kind == "Equals":
        return values_equal(left, right)
    a, b = _number(left), _number(right)
    if a is None or b is None:
        if isinstance(left, str) and isinstance(right, str):
            a, b = left, right  # type: ignore[assignment]
        else:
            raise ExpressionError(f"{kind} compares numbers, got {left!r} and {right!r}")
    return {
        "GreaterThan": a > b,
        "GreaterThanOrEqualTo": a >= b,
        "LessThan": a < b,
        "LessThanOrEqualTo": a <= b,
    }[kind]


def evaluate_condition(condition: dict[str, Any], resolve: Callable[[Any], Any]) -> bool:
    """True or False for one condition; `resolve` evaluates the expressions inside it."""
    kind = condition.get("Type")
    if kind in COMPARISONS:
        return compare(kind, resolve(condition.get("LeftValue")), resolve(condition.get("RightValue")))
    if kind == "In":
        query = resolve(condition.get("QueryValue"))
        return any(values_equal(query, resolve(v)) for v in condition.get("Values") or [])
    if kind == "Not":
        inner = condition.get("Condition", condition.get("Expression"))
        if not isinstance(inner, dict):
            raise ExpressionError(f"Not needs a Condition, got {condition!r}")
        return not evaluate_condition(inner, resolve)
    if kind == "Or":
        return any(evaluate_condition(c, resolve) for c in condition.get("Conditions") or [])
    raise ExpressionError(f"unknown condition type {kind!r}; expected one of {', '.join(CONDITION_TYPES)}")


def describe_condition(condition: dict[str, Any], resolve: Callable[[Any], Any]) -> str:
    """`0.87 >= 0.7`-style text of a condition with its values, for progress and summaries."""
    symbols = {"Equals": "==", "GreaterThan": ">", "GreaterThanOrEqualTo": ">=", "LessThan": "<",
               "LessThanOrEqualTo": "<="}
    kind = condition.get("Type")
    if kind in symbols:
        left, right = resolve(condition.get("LeftValue")), resolve(condition.get("RightValue"))
        return f"{_short(left)} {symbols[kind]} {_short(right)}"
    if kind == "In":
        values = ", ".join(_short(resolve(v)) for v in condition.get("Values") or [])
        return f"{_short(resolve(condition.get('QueryValue')))} in ({values})"
    if kind == "Not":
        return f"not ({describe_condition(condition.get('Condition') or condition.get('Expression') or {}, resolve)})"
    if kind == "Or":
        return " or ".join(f"({describe_condition(c, resolve)})" for c in condition.get("Conditions") or [])
    return str(kind)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return to_text(value)
