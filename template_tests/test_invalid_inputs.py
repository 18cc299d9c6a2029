"""Bad template inputs stop generation with one clear message, non-zero exit, nothing left behind."""

from __future__ import annotations

import pytest

CASES = [
    ("project", "Bad_Slug!", "project: 'Bad_Slug!' is not a slug"),
    ("project", "-leading-hyphen", "project: '-leading-hyphen' is not a slug"),
    ("dev_account_id", "12345", "dev_account_id: '12345' is not a 12-digit AWS account id"),
    ("prod_account_id", "12345678901a", "prod_account_id: '12345678901a' is not a 12-digit AWS account id"),
    ("aws_region", "mars-central-1", "aws_region: 'mars-central-1' is not an AWS region code"),
    ("owner_email", "not-an-email", "owner_email: 'not-an-email' is not an e-mail address"),
    ("metric_threshold", "high", "metric_threshold: 'high' is not a number"),
    ("metric_threshold", "1.5", "metric_threshold: '1.5' must lie between 0 and 1 for auc"),
    ("primary_metric", "rmse", "primary_metric: 'rmse' does not fit problem_type 'binary_classification'"),
    ("training_instance_type", "m5.xlarge", "training_instance_type: 'm5.xlarge' is not a SageMaker instance type"),
    ("github_repository", "no-slash", "github_repository: 'no-slash' is not owner/name"),
    ("problem_type", "multiclass", "problem_type: 'multiclass' is not one of binary_classification, "
                                   "multiclass_classification, regression"),
    ("use_spot", "maybe", "use_spot: 'maybe' is not one of yes, no"),
    ("source_provider", "gitlab", "source_provider: 'gitlab' is not one of github, codecommit"),
    ("owner_email", "data%science@example.com", "owner_email: 'data%science@example.com' is not an e-mail"),
]


@pytest.mark.parametrize("field, value, message", CASES, ids=[f"{c[0]}={c[1]}" for c in CASES])
def test_bad_input_is_rejected_cleanly(render, field, value, message):
    result, out = render(**{field: value})
    assert result.returncode != 0
    assert message in result.stderr
    assert "Fix the value(s) and run cookiecutter again" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert list(out.iterdir()) == [], "a rejected render must leave no output directory"


def test_every_problem_is_reported_at_once(render):
    result, out = render(aws_region="nowhere", cost_center="has space", staging_account_id="1")
    assert result.returncode != 0
    for field in ("aws_region", "cost_center", "staging_account_id"):
        assert f"  - {field}:" in result.stderr
    assert list(out.iterdir()) == []


def test_regression_threshold_must_be_positive_for_rmse(render):
    result, out = render(problem_type="regression", primary_metric="rmse", metric_threshold="-1")
    assert result.returncode != 0
    assert "metric_threshold: '-1' must be positive for rmse" in result.stderr
    assert list(out.iterdir()) == []


def test_codecommit_needs_no_github_repository(render):
    result, out = render(source_provider="codecommit", github_repository="")
    assert result.returncode == 0, result.stderr
    assert (out / "churn-model" / "pyproject.toml").exists()
