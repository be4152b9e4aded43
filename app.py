"""The CDK app: `cdk synth` / `cdk deploy` (cdk.json runs it with the project's venv)."""

from infra.app import build_app

build_app().synth()
