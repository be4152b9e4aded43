"""The composition root: every service a handler uses, built once per cold start from
the deployment (batch_calls/deployment.py, the environment read once).

Handlers, the embedded runtime and the command line get their stores, providers and
use-case services here and nowhere else; `forget` drops them all (a new embedded runtime
listens on new ports; a rotated secret needs a cold start in AWS anyway).
"""

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache

from batch_calls.deployment import Deployment
from batch_calls.logic.notifications import Notifications
from batch_calls.logic.services import DEFAULT_CALL_WATCH, Services
from batch_calls.store.attempts import Attempts
from batch_calls.store.blobs import Blobs
from batch_calls.store.database import Database
from batch_calls.store.events import EventBus
from batch_calls.store.pacing import Pacing
from batch_calls.store.queues import LoadQueue, WebhookQueue
from batch_calls.store.workflow import Workflow
from batch_calls.telephony import credentials, factory
from batch_calls.telephony.base import Provider
from batch_calls.telephony.simulated import SimulatedProvider


def utc_now() -> datetime:
    return datetime.now(UTC)


# The product's clock. The embedded runtime replaces it to move time (tests of calling
# windows); in AWS it is the system clock.
_clock: list[Callable[[], datetime]] = [utc_now]


def use_clock(clock: Callable[[], datetime]) -> None:
    _clock[0] = clock


def _now() -> datetime:
    return _clock[0]()


@cache
def deployment() -> Deployment:
    return Deployment.from_environment()


# -- stores: the only AWS data access ---------------------------------------------------


@cache
def database() -> Database:
    return Database(deployment().required("table_name"))


@cache
def attempts() -> Attempts:
    return Attempts(deployment().required("table_name"))


@cache
def pacing() -> Pacing:
    return Pacing(deployment().required("table_name"))


@cache
def blobs() -> Blobs:
    return Blobs(deployment().required("bucket_name"))


@cache
def load_queue() -> LoadQueue:
    return LoadQueue(deployment().required("load_queue_url"))


@cache
def webhook_queue() -> WebhookQueue:
    return WebhookQueue(deployment().required("webhook_queue_url"))


@cache
def event_bus() -> EventBus:
    return EventBus(deployment().required("event_bus_name"))


@cache
def workflow() -> Workflow:
    settings = deployment()
    return Workflow(
        settings.required("state_machine_arn"),
        settings.required("scheduler_group"),
        settings.required("scheduler_role_arn"),
        settings.required("start_round_function_arn"),
    )


# -- telephony -------------------------------------------------------------------------


@cache
def provider(name: str | None = None) -> Provider:
    """The provider called `name` (the deployment's default for None); raises
    ProviderNotConfigured when it is unknown or the deployment has no settings for it."""
    settings = deployment()
    chosen = name or settings.telephony_provider
    secret = {} if chosen == SimulatedProvider.name else _telephony_secret()
    return factory.build(chosen, secret=secret, simulator_key=simulator_key(), deployment=settings)


@cache
def _telephony_secret() -> dict[str, object]:
    return credentials.load_secret(deployment().telephony_secret_arn)


@cache
def simulator_key() -> bytes:
    """The HMAC key the simulated provider signs its callbacks with (b"" when the
    deployment has none: nothing it signs is then accepted)."""
    return credentials.secret_text(deployment().simulator_secret_arn).encode()


# -- use cases -------------------------------------------------------------------------


@cache
def services() -> Services:
    notifications = Notifications(database(), event_bus(), webhook_queue(), load_queue())
    return Services(
        database(),
        attempts(),
        pacing(),
        blobs(),
        workflow(),
        load_queue(),
        provider,
        notifications,
        clock=_now,
        call_watch=deployment().call_watch or DEFAULT_CALL_WATCH,
    )


def forget() -> None:
    """Drop everything built, so that the next use builds it from the environment anew:
    every cached builder of this module (no list to keep up to date by hand)."""
    for value in list(globals().values()):
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()
