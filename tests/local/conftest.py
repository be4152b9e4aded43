"""One embedded AWS (and one local API gateway) for the whole tests/local package.

Package scope: the variables it exports (AWS_ENDPOINT_URL, ...) are restored before tests
in other directories run.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.resources import QUEUES
from local.api_gateway import DEFAULT_PUBLIC_ROUTES, LocalApiGateway
from local.aws import EmbeddedAws
from tests.local.support import FAIL_QUEUE, TEST_FUNCTIONS


@pytest.fixture(scope="package")
def aws() -> Iterator[EmbeddedAws]:
    with EmbeddedAws(TEST_FUNCTIONS, queues=(*QUEUES, FAIL_QUEUE)) as embedded:
        yield embedded


@pytest.fixture(scope="package")
def gateway(aws: EmbeddedAws) -> Iterator[LocalApiGateway]:
    with LocalApiGateway(
        public_routes=(*DEFAULT_PUBLIC_ROUTES, ("ANY", "/crash-public")),
        prefix_functions={"/crash": "CrashFunction"},
    ) as api:
        yield api
