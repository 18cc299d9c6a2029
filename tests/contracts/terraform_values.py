"""Terraform string values with their `${var.x}` and `${local.x}` references filled in.

Enough of HCL for names and ARNs built by interpolation (plus `trimsuffix`), so contract tests can
see what Terraform would name things without a Terraform binary or a provider.
"""

from __future__ import annotations

import json
import re
from typing import Any

_REFERENCE = re.compile(r"\$\{(var|local)\.([A-Za-z_][\w-]*)\}")
_TRIMSUFFIX = re.compile(r'^\$\{trimsuffix\((local|var)\.([\w-]+), "(.*)"\)\}$')
_WHOLE = re.compile(r"^\$\{(var|local)\.([A-Za-z_][\w-]*)\}$")


def render(value: Any, variables: dict[str, Any], local_values: dict[str, Any]) -> Any:
    """`value` with every var/local reference replaced; a whole-string reference keeps its type (lists)."""
    if isinstance(value, list):
        return [render(v, variables, local_values) for v in value]
    if not isinstance(value, str):
        return value
    scopes = {"var": variables, "local": local_values}
    trim = _TRIMSUFFIX.match(value)
    if trim:
        return str(render(scopes[trim.group(1)][trim.group(2)], variables, local_values)).removesuffix(trim.group(3))
    whole = _WHOLE.match(value)
    if whole:
        return render(scopes[whole.group(1)][whole.group(2)], variables, local_values)

    def one(match: re.Match[str]) -> str:
        resolved = render(scopes[match.group(1)][match.group(2)], variables, local_values)
        return resolved if isinstance(resolved, str) else json.dumps(resolved)

    rendered = _REFERENCE.sub(one, value)
    return render(rendered, variables, local_values) if _REFERENCE.search(rendered) else rendered
