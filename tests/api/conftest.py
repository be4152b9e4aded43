"""The whole product on the embedded AWS (local.runtime), served by the local API.

Package scope: one runtime for every test here; each test makes its own batches, and two
seeded workspaces show tenancy. Calls go to the simulated provider, quickly.
"""

from collections.abc import Iterator

import pytest

from batch_calls.handlers import wiring
from batch_calls.logic.admin import NewWorkspace
from local import runtime
from local.api_gateway import LocalApiGateway
from local.aws import EmbeddedAws
from local.demo import seed_workspace
from tests.api.client import Client


@pytest.fixture(scope="package")
def product() -> Iterator[runtime.LocalRuntime]:
    with runtime.running() as local:
        yield local


@pytest.fixture(scope="package")
def aws(product: runtime.LocalRuntime) -> EmbeddedAws:
    return product.aws


@pytest.fixture(scope="package")
def gateway(product: runtime.LocalRuntime) -> LocalApiGateway:
    return product.gateway


@pytest.fixture(scope="package")
def tenant(product: runtime.LocalRuntime) -> NewWorkspace:
    return seed_workspace(wiring.database(), name="Acme")


@pytest.fixture(scope="package")
def other_tenant(product: runtime.LocalRuntime) -> NewWorkspace:
    return seed_workspace(wiring.database(), name="Other", numbers=("+14155550199",))


@pytest.fixture
def client(gateway: LocalApiGateway, tenant: NewWorkspace) -> Client:
    return Client(gateway.url, tenant.api_key)


@pytest.fixture
def other_client(gateway: LocalApiGateway, other_tenant: NewWorkspace) -> Client:
    return Client(gateway.url, other_tenant.api_key)
