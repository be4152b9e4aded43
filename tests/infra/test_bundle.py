"""The one code asset: the package and the Lambda requirements as arm64 wheels for the
runtime's Python, and nothing Lambda already has or only development needs."""

import re
from pathlib import Path
from typing import Any

from aws_cdk import cx_api

from infra import resources
from infra.bundling import LAMBDA_REQUIREMENTS
from infra.functions import RUNTIME
from infra.runtime_provided import RUNTIME_PROVIDED, distribution_name, remove_runtime_provided
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
    assert not list(asset.rglob("__pycache__"))


def test_the_asset_leaves_the_sdk_to_the_runtime(
    assembly: cx_api.CloudAssembly, template: dict[str, Any]
) -> None:
    """aws-xray-sdk depends on botocore: without the pruning, the asset carries a second
    30 MB botocore that shadows the runtime's."""
    (asset,) = _code_assets(assembly, template)
    bundled = {distribution_name(dist_info) for dist_info in asset.glob("*.dist-info")}
    assert "aws-xray-sdk" in bundled
    assert not bundled & RUNTIME_PROVIDED
    for package in ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3"):
        assert not (asset / package).exists(), package
    assert not (asset / "bin").exists() and not (asset / "six.py").exists()
    size = sum(path.stat().st_size for path in asset.rglob("*") if path.is_file())
    assert size < 50 * 1024 * 1024


def test_pruning_removes_only_what_the_runtime_has(tmp_path: Path) -> None:
    def install(name: str, files: list[str]) -> None:
        dist_info = tmp_path / f"{name.replace('-', '_')}-1.0.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\n")
        for file in files:
            path = tmp_path / file.removeprefix("../../")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("x")
        record = [*files, f"{dist_info.name}/METADATA", f"{dist_info.name}/RECORD"]
        (dist_info / "RECORD").write_text("".join(f"{f},sha256=x,1\n" for f in record))

    install("botocore", ["botocore/__init__.py", "botocore/data/s3/service.json"])
    install("jmespath", ["jmespath/__init__.py", "../../bin/jp.py"])
    install("Python_Dateutil", ["dateutil/__init__.py"])
    install("wrapt", ["wrapt/__init__.py"])
    assert sorted(remove_runtime_provided(tmp_path)) == ["botocore", "jmespath", "python-dateutil"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wrapt", "wrapt-1.0.dist-info"]
