"""The one code asset every function runs: `functions/batch_calls` and the Lambda
requirements (requirements.txt), built without Docker.

CDK asks the local bundler first: `pip install --platform manylinux2014_aarch64
--only-binary=:all:` for the runtime's Python fetches the arm64 wheels Lambda runs, on any
host, then the package is copied beside them. Docker (the runtime's bundling image) is
only the fallback, for a host without pip.
"""

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from infra.resources import PACKAGE
from infra.runtime_provided import remove_runtime_provided

REPOSITORY = Path(__file__).resolve().parents[1]
SOURCE = REPOSITORY / "functions" / PACKAGE
# Only what Lambda needs: no boto3 (in the runtime), no test or CDK packages.
LAMBDA_REQUIREMENTS = REPOSITORY / "requirements.txt"
PLATFORM = "manylinux2014_aarch64"
DEPENDENCY_CACHE = REPOSITORY / "build" / "lambda-dependencies"
# Part of the cached dependencies' identity: a change to what it removes rebuilds them.
PRUNE_SCRIPT = REPOSITORY / "infra" / "runtime_provided.py"


def pip_command(runtime: lambda_.Runtime, target: str) -> list[str]:
    version = runtime.name.removeprefix("python")
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--quiet",  # errors only: a machine's pip configuration may warn on every package
        "--disable-pip-version-check",
        "--no-compile",  # .pyc of the host's Python would be useless to the runtime's
        "--platform",
        PLATFORM,
        "--only-binary=:all:",
        "--python-version",
        version,
        "--implementation",
        "cp",
        "--target",
        target,
        "-r",
        str(LAMBDA_REQUIREMENTS),
    ]


@jsii.implements(ILocalBundling)
class LocalBundling:
    def __init__(self, runtime: lambda_.Runtime) -> None:
        self.runtime = runtime

    def try_bundle(self, output_dir: str, options: Any = None, **_: Any) -> bool:
        try:
            dependencies = self._dependencies()
        except (OSError, subprocess.CalledProcessError) as error:
            print(f"local bundling failed ({error}); trying Docker", file=sys.stderr)
            return False
        shutil.copytree(dependencies, output_dir, dirs_exist_ok=True)
        shutil.copytree(
            SOURCE,
            Path(output_dir) / PACKAGE,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            dirs_exist_ok=True,
        )
        return True

    def _dependencies(self) -> Path:
        """The installed requirements, kept under build/ by their hash: pip runs once per
        change of requirements.txt or runtime, not on every synth."""
        digest = hashlib.sha256(
            self.runtime.name.encode()
            + LAMBDA_REQUIREMENTS.read_bytes()
            + PRUNE_SCRIPT.read_bytes()
        )
        cached = DEPENDENCY_CACHE / digest.hexdigest()[:16]
        if not cached.is_dir():
            partial = cached.with_suffix(".partial")
            shutil.rmtree(partial, ignore_errors=True)
            subprocess.run(pip_command(self.runtime, str(partial)), check=True)
            remove_runtime_provided(partial)
            partial.rename(cached)
        return cached


def source_hash(runtime: lambda_.Runtime) -> str:
    """The asset's identity: the package's files, the requirements and the runtime, so a
    change to any of them uploads a new asset and nothing else does."""
    digest = hashlib.sha256(runtime.name.encode())
    files = sorted(p for p in SOURCE.rglob("*.py") if "__pycache__" not in p.parts)
    for path in [LAMBDA_REQUIREMENTS, PRUNE_SCRIPT, *files]:
        digest.update(str(path.relative_to(REPOSITORY)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def function_code(runtime: lambda_.Runtime) -> lambda_.Code:
    docker_command = (
        f"pip install --no-compile -r /asset-input/{LAMBDA_REQUIREMENTS.name} -t /asset-output"
        " && python /asset-input/infra/runtime_provided.py /asset-output"
        f" && cp -r /asset-input/functions/{PACKAGE} /asset-output/"
    )
    return lambda_.Code.from_asset(
        str(REPOSITORY),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=source_hash(runtime),
        bundling=BundlingOptions(
            image=runtime.bundling_image,
            platform="linux/arm64",
            command=["bash", "-c", docker_command],
            local=LocalBundling(runtime),
        ),
    )
