"""moto in-process with the stack's main table: no HTTP between a test and DynamoDB."""

from collections.abc import Iterator
from contextlib import contextmanager

import boto3
import pytest
from moto import mock_aws

from infra.resources import MAIN_TABLE
from local import moto_dynamodb
from local.aws import create_table
from local.runtime import forget_clients


@contextmanager
def main_table_in_process(name: str) -> Iterator[None]:
    """The main table as `name` (TABLE_NAME), the stores' cached clients made afresh."""
    moto_dynamodb.install()  # transactions that cost what they touch, as in DynamoDB
    with mock_aws(), pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.delenv("AWS_ENDPOINT_URL", raising=False)
        env.setenv("TABLE_NAME", name)
        create_table(boto3.client("dynamodb"), MAIN_TABLE, name)
        forget_clients()
        try:
            yield
        finally:
            forget_clients()
            moto_dynamodb.uninstall()
