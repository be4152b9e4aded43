"""Telephony providers behind one interface (`base.Provider`).

`provider(name)` builds a provider once per cold start, like the stores. A workspace
names its provider (`Workspace.telephony_provider`); without one, `TELEPHONY_PROVIDER`
(the deployment's default, `simulated` when unset) is used: `provider_name_for`.

The simulated provider places calls through `SIMULATOR_QUEUE_URL` and verifies callbacks
with the key in the secret `SIMULATOR_SECRET_ARN` names. The real ones read their
settings and credentials from the secret `TELEPHONY_SECRET_ARN` names (`credentials.py`)
and give providers
`CALLBACK_URL`, the API's public URL, for status callbacks. Each setting is checked when
first needed, so the dial function is not given the webhook secret, nor the webhook
function the queue.
"""

import os
from collections.abc import Callable
from functools import cache

from batch_calls.domain.workspace import TELEPHONY_PROVIDERS
from batch_calls.telephony import credentials
from batch_calls.telephony.amazon_connect import AmazonConnectProvider
from batch_calls.telephony.base import (
    CallEvent,
    CallNotPlaced,
    CallRequest,
    DispatchUnknown,
    InvalidSignature,
    Outcome,
    PermanentCallError,
    PlacedCall,
    Provider,
    ProviderNotConfigured,
)
from batch_calls.telephony.http import HttpProvider
from batch_calls.telephony.simulated import SimulatedProvider
from batch_calls.telephony.twilio import TwilioProvider

DEFAULT_PROVIDER = "simulated"
# Each real provider is built from its object of the secret and the callback base URL.
_REAL: dict[str, Callable[[credentials.Settings, str], Provider]] = {
    HttpProvider.name: HttpProvider.from_settings,
    TwilioProvider.name: TwilioProvider.from_settings,
    AmazonConnectProvider.name: AmazonConnectProvider.from_settings,
}
assert {SimulatedProvider.name, *_REAL} == set(TELEPHONY_PROVIDERS)


def default_provider_name() -> str:
    return os.environ.get("TELEPHONY_PROVIDER") or DEFAULT_PROVIDER


def provider_name_for(workspace_choice: str | None) -> str:
    return workspace_choice or default_provider_name()


@cache
def provider(name: str | None = None) -> Provider:
    """The provider called `name` (the deployment default for None).

    ProviderNotConfigured when it is unknown or the deployment has no settings for it."""
    chosen = name or default_provider_name()
    if chosen == SimulatedProvider.name:
        return SimulatedProvider(
            secret=simulator_key(), queue_url=os.environ.get("SIMULATOR_QUEUE_URL", "")
        )
    if chosen not in _REAL:
        raise ProviderNotConfigured(
            f"telephony provider {chosen!r} is unknown (known: {', '.join(TELEPHONY_PROVIDERS)})"
        )
    settings = credentials.section(_secret(), chosen)
    try:
        return _REAL[chosen](settings, os.environ.get("CALLBACK_URL", ""))
    except ValueError as error:
        raise ProviderNotConfigured(f"telephony secret: {error}") from None


@cache
def _secret() -> dict[str, object]:
    return credentials.load_secret()


@cache
def simulator_key() -> bytes:
    """The HMAC key the simulated provider signs its callbacks with (b"" when the
    deployment has none: nothing it signs is then accepted)."""
    return credentials.secret_text(credentials.SIMULATOR_SECRET_ARN_VARIABLE).encode()


def forget() -> None:
    """Drop the cached providers and secrets (tests; a rotated secret needs a cold start)."""
    provider.cache_clear()
    _secret.cache_clear()
    simulator_key.cache_clear()


__all__ = [
    "CallEvent",
    "CallNotPlaced",
    "CallRequest",
    "DispatchUnknown",
    "InvalidSignature",
    "Outcome",
    "PermanentCallError",
    "PlacedCall",
    "Provider",
    "ProviderNotConfigured",
    "SimulatedProvider",
    "forget",
    "provider",
    "provider_name_for",
    "simulator_key",
]
