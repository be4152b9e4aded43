"""One embedded AWS (and one local API gateway) for the whole tests/local package.

Package scope: the variables it exports (AWS_ENDPOINT_URL, ...) are restored before tests
in other directories run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from infra.resources import QUEUES, ROUTES, RouteSpec
from local.api_gateway import LocalApiGateway
from local.aws import EmbeddedAws
from tests.local.support import FAIL_QUEUE, TEST_FUNCTIONS


@pytest.fixture(scope="package")
def aws() -> Iterator[EmbeddedAws]:
    with EmbeddedAws(TEST_FUNCTIONS, queues=(*QUEUES, FAIL_QUEUE)) as embedded:
        yield embedded


@pytest.fixture(scope="package")
def gateway(aws: EmbeddedAws) -> Iterator[LocalApiGateway]:
    # The stack's routes, all to the fake api function, and two to a function that raises.
    routes = (
        *(dataclasses.replace(route, function="ApiFunction") for route in ROUTES),
        RouteSpec("ANY", "/crash", "CrashFunction"),
        RouteSpec("ANY", "/crash-public", "CrashFunction", public=True),
    )
    with LocalApiGateway(routes=routes) as api:
        yield api
