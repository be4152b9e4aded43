"""The product's own stack on the embedded AWS, served by the local API gateway.

Package scope: one moto server for every test here; each test makes its own batches,
and two seeded workspaces show tenancy.
"""

from collections.abc import Iterator

import pytest

from batch_calls import store
from batch_calls.handlers import api
from batch_calls.logic.admin import NewWorkspace
from local.api_gateway import LocalApiGateway
from local.aws import EmbeddedAws
from local.demo import seed_workspace
from tests.api.client import Client


def _forget_clients() -> None:
    """Clients are cached per process; each embedded AWS listens on a new port."""
    for cached in (store.database, store.blobs, store.load_queue, api.services):
        cached.cache_clear()
    api.idempotent_runner.cache_clear()


@pytest.fixture(scope="package")
def aws() -> Iterator[EmbeddedAws]:
    with EmbeddedAws() as embedded:
        _forget_clients()
        yield embedded
    _forget_clients()


@pytest.fixture(scope="package")
def gateway(aws: EmbeddedAws) -> Iterator[LocalApiGateway]:
    with LocalApiGateway() as served:
        yield served


@pytest.fixture(scope="package")
def tenant(aws: EmbeddedAws) -> NewWorkspace:
    return seed_workspace(store.database(), name="Acme")


@pytest.fixture(scope="package")
def other_tenant(aws: EmbeddedAws) -> NewWorkspace:
    return seed_workspace(store.database(), name="Other", numbers=("+14155550199",))


@pytest.fixture
def client(gateway: LocalApiGateway, tenant: NewWorkspace) -> Client:
    return Client(gateway.url, tenant.api_key)


@pytest.fixture
def other_client(gateway: LocalApiGateway, other_tenant: NewWorkspace) -> Client:
    return Client(gateway.url, other_tenant.api_key)
