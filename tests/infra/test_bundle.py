"""The one code asset: the package and the Lambda requirements as arm64 wheels for the
runtime's Python, and nothing Lambda already has or only development needs."""

import re
from pathlib import Path
from typing import Any

from aws_cdk import cx_api

from infra import resources
from infra.bundling import LAMBDA_REQUIREMENTS
from infra.functions import RUNTIME
from tests.infra.conftest import STACK
from tests.infra.support import of_type

NOT_FOR_LAMBDA = {"boto3", "botocore", "moto", "aws-cdk-lib", "constructs", "cdk-nag", "pytest"}


def _code_assets(assembly: cx_api.CloudAssembly, template: dict[str, Any]) -> set[Path]:
    """The assets of the spec's functions (not of CDK's own custom resources)."""
    names = {f"{STACK}-{spec.logical_id}" for spec in resources.FUNCTIONS}
    return {
        Path(assembly.directory) / f"asset.{r['Properties']['Code']['S3Key'].removesuffix('.zip')}"
        for r in of_type(template, "AWS::Lambda::Function").values()
        if r["Properties"].get("FunctionName") in names
    }


def test_lambda_requirements_hold_no_runtime_or_development_package() -> None:
    names = {
        re.split(r"[=<>\[ ]", line, maxsplit=1)[0].lower()
        for line in LAMBDA_REQUIREMENTS.read_text().splitlines()
        if line.strip() and not line.startswith(("#", "-"))
    }
    assert names and not names & NOT_FOR_LAMBDA


def test_every_function_runs_one_asset_with_arm64_wheels_for_its_python(
    assembly: cx_api.CloudAssembly, template: dict[str, Any]
) -> None:
    (asset,) = _code_assets(assembly, template)
    for spec in resources.FUNCTIONS:
        module = spec.handler.rsplit(".", 1)[0]
        assert (asset / (module.replace(".", "/") + ".py")).is_file(), spec.handler
    version = RUNTIME.name.removeprefix("python").replace(".", "")
    (extension,) = (asset / "pydantic_core").glob("*.so")
    assert f"cpython-{version}-aarch64-linux-gnu" in extension.name
    assert not (asset / "boto3").exists()
    assert not list(asset.rglob("__pycache__"))
