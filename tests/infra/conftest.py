"""The production stack, synthesised once per test session (with bundling: the first
synthesis on a machine runs pip; later ones reuse build/lambda-dependencies)."""

import json
import os
from pathlib import Path
from typing import Any

import pytest

# jsii starts Node when aws_cdk is first imported; Node 20 works but warns on every start.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import cx_api

from infra.app import build_app
from infra.stack import Settings, stack_name

# The context `cdk deploy` gives the app: the stack under test is the one deployed.
CDK_CONTEXT = json.loads((Path(__file__).parents[2] / "cdk.json").read_text())["context"]
STACK = stack_name(Settings.from_context(CDK_CONTEXT))


@pytest.fixture(scope="session")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> cx_api.CloudAssembly:
    return build_app(str(tmp_path_factory.mktemp("cdk.out")), CDK_CONTEXT).synth()


@pytest.fixture(scope="session")
def stack(assembly: cx_api.CloudAssembly) -> cx_api.CloudFormationStackArtifact:
    return assembly.get_stack_by_name(STACK)


@pytest.fixture(scope="session")
def template(stack: cx_api.CloudFormationStackArtifact) -> dict[str, Any]:
    return dict(stack.template)


@pytest.fixture(scope="session")
def template_path(stack: cx_api.CloudFormationStackArtifact) -> Path:
    return Path(stack.template_full_path)
