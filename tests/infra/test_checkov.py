"""checkov over infra/: no parsing error, no failed check, and every skip states its reason."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from infra.tools.terraform_config import hcl_files

SKIP_COMMENT = re.compile(r"#\s*checkov:skip=(?P<check>[A-Z0-9_]+)(?::(?P<reason>.*))?")


def test_checkov_parses_every_file(checkov_report: dict[str, Any]) -> None:
    errors = checkov_report["results"].get("parsing_errors", [])
    assert checkov_report["summary"]["parsing_errors"] == 0, f"checkov could not parse: {errors}"


def test_checkov_has_no_failed_check(checkov_report: dict[str, Any]) -> None:
    failed = [
        f"{c['check_id']} {c['check_name']}: {c['resource']} ({c['file_path']}:{c['file_line_range'][0]})"
        for c in checkov_report["results"].get("failed_checks", [])
    ]
    assert checkov_report["summary"]["failed"] == 0, "checkov failed checks:\n" + "\n".join(failed)


def test_checkov_skips_carry_their_reason(checkov_report: dict[str, Any]) -> None:
    unexplained = [
        f"{c['check_id']} on {c['resource']}"
        for c in checkov_report["results"].get("skipped_checks", [])
        if len((c.get("check_result") or {}).get("suppress_comment") or "") < 20
    ]
    assert not unexplained, f"skips without a reason (write #checkov:skip=ID:<why>): {unexplained}"


def test_every_skip_comment_states_a_reason(infra_dir: Path) -> None:
    """Also without checkov: a `#checkov:skip` comment needs `:<reason>` of a few words."""
    bad = [
        f"{path}:{number}: {line.strip()}"
        for path in hcl_files(infra_dir, (".tf",))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if (m := SKIP_COMMENT.search(line)) and len((m.group("reason") or "").split()) < 4
    ]
    assert not bad, "checkov skips must say why, e.g. #checkov:skip=CKV_AWS_144:<reason>:\n" + "\n".join(bad)
