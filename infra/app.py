"""The app the CDK CLI and the tests synthesise: the stack, checked by cdk-nag."""

from collections.abc import Mapping
from typing import Any

from aws_cdk import App, Aspects, cx_api
from cdk_nag import AwsSolutionsChecks

from infra.stack import BatchCallsStack, Settings, stack_name

# CDK behaviours this stack relies on, set here so the CLI and the tests agree.
FEATURE_FLAGS = {
    # Server access logs are granted by a bucket policy (the log bucket has no ACLs).
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
}


# What a deployment may choose (cdk.json's "context", or `cdk deploy -c key=value`).
CONTEXT_KEYS = (
    "stage",
    "telephonyProvider",
    "dialSettings",
    "settings",
    "maxConcurrency",
    "alarmEmail",
)


def build_app(outdir: str | None = None, context: Mapping[str, Any] | None = None) -> App:
    app = App(outdir=outdir, context={**FEATURE_FLAGS, **(context or {})})
    settings = Settings.from_context({key: app.node.try_get_context(key) for key in CONTEXT_KEYS})
    BatchCallsStack(app, stack_name(settings), settings=settings)
    # Findings are errors in the synthesised assembly; `cdk synth` fails on them.
    Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return app


def errors_of(assembly: cx_api.CloudAssembly) -> list[str]:
    """The error annotations (cdk-nag findings not suppressed) of every stack."""
    return [
        f"{message.id}: {message.entry.data}"
        for stack in assembly.stacks
        for message in stack.messages
        if message.level == cx_api.SynthesisMessageLevel.ERROR
    ]
