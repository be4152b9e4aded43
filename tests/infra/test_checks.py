"""cdk-nag (AwsSolutions) and cfn-lint on the synthesised stack."""

from pathlib import Path

from aws_cdk import cx_api
from cfnlint.api import ManualArgs, lint_file

from infra.app import errors_of
from infra.nag import PUBLIC_ROUTE_REASON, SUPPRESSIONS


def test_cdk_nag_finds_no_unsuppressed_error(assembly: cx_api.CloudAssembly) -> None:
    assert errors_of(assembly) == []


def test_every_suppression_says_why() -> None:
    for reason in [s.reason for s in SUPPRESSIONS] + [PUBLIC_ROUTE_REASON]:
        assert len(reason.split()) >= 10, reason


def test_cfn_lint_finds_no_error(template_path: Path) -> None:
    matches = lint_file(template_path, config=ManualArgs(regions=["us-east-1"]))
    errors = [str(m) for m in matches if m.rule.id.startswith("E")]
    assert errors == []
