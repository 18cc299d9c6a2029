"""Validate every template input before cookiecutter writes anything.

cookiecutter renders `__validated` (see cookiecutter.json) after all inputs are known and
before it creates the output directory. Its filter checks the inputs with the shared rules
in pipelines/rules.py and, on a bad value, prints one message naming each field and its
expected form, then exits 1. Doing this in a pre-generation hook instead would make
cookiecutter print its own traceback and create the output directory first.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from jinja2 import Environment
from jinja2.ext import Extension

from pipelines.rules import check_template_inputs


def validate_inputs(values: Mapping[str, object]) -> str:
    problems = check_template_inputs(dict(values))
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        sys.stderr.write(
            f"ERROR: invalid template input(s); nothing was generated:\n{lines}\n"
            "Fix the value(s) and run cookiecutter again.\n"
        )
        sys.stderr.flush()
        raise SystemExit(1)
    return ""


class ValidationExtension(Extension):
    def __init__(self, environment: Environment):
        super().__init__(environment)
        environment.filters["ml_factory_validate"] = validate_inputs
        # cookiecutter renders the hooks inside the template folder: a relative `_repo_dir` (`cookiecutter .`,
        # `cookiecutter ../template`) made absolute there still names it when the hook runs in the new repo
        environment.filters["ml_factory_abspath"] = os.path.abspath
        # the template checkout this extension was loaded from: post_gen_project.py's fallback under cruft
        environment.globals["ml_factory_template_root"] = str(Path(__file__).resolve().parent.parent)
