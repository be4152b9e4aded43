"""cdk-nag (AwsSolutions), cfn-lint and checkov on the synthesised stack."""

import json
import subprocess
import sys
from pathlib import Path

from aws_cdk import cx_api
from cfnlint.api import ManualArgs, lint_file

from infra.app import errors_of
from infra.checkov import SKIPPED_CHECKS
from infra.nag import PUBLIC_ROUTE_REASON, SUPPRESSIONS


def test_cdk_nag_finds_no_unsuppressed_error(assembly: cx_api.CloudAssembly) -> None:
    assert errors_of(assembly) == []


def test_every_suppression_says_why() -> None:
    reasons = [s.reason for s in SUPPRESSIONS] + [PUBLIC_ROUTE_REASON]
    for reason in reasons + list(SKIPPED_CHECKS.values()):
        assert len(reason.split()) >= 10, reason


def test_cfn_lint_finds_no_error(template_path: Path) -> None:
    matches = lint_file(template_path, config=ManualArgs(regions=["us-east-1"]))
    errors = [str(m) for m in matches if m.rule.id.startswith("E")]
    assert errors == []


# Installed by `make install` in an environment of its own (requirements-checkov.txt).
CHECKOV = Path(sys.executable).parent.parent / "checkov" / "bin" / "checkov"


def test_checkov_finds_nothing_but_the_reasoned_skips(template_path: Path) -> None:
    assert CHECKOV.is_file(), f"{CHECKOV} is missing: run `make install`"
    finished = subprocess.run(
        [
            str(CHECKOV),
            "--file",
            str(template_path),
            "--framework",
            "cloudformation",
            "--skip-check",
            ",".join(SKIPPED_CHECKS),
            "--skip-download",
            "--output",
            "json",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    report = json.loads(finished.stdout)
    failed = [
        f"{check['check_id']} {check['resource']}: {check['check_name']}"
        for check in report["results"]["failed_checks"]
    ]
    assert failed == []
    assert report["summary"]["passed"] > 100
