"""Builds the provider a workspace or the deployment names (the composition root,
handlers/wiring.py, builds each once per cold start): the one module that knows every
concrete provider, so that importing the interface (`base.py`) pulls in none of them."""

from collections.abc import Callable, Mapping

from batch_calls.deployment import Deployment
from batch_calls.domain.workspace import TELEPHONY_PROVIDERS
from batch_calls.telephony import credentials
from batch_calls.telephony.amazon_connect import AmazonConnectProvider
from batch_calls.telephony.base import Provider, ProviderNotConfigured
from batch_calls.telephony.http import HttpProvider
from batch_calls.telephony.simulated import SimulatedProvider
from batch_calls.telephony.twilio import TwilioProvider

# Each real provider is built from its object of the secret and the callback base URL.
_REAL: dict[str, Callable[[credentials.Settings, str], Provider]] = {
    HttpProvider.name: HttpProvider.from_settings,
    TwilioProvider.name: TwilioProvider.from_settings,
    AmazonConnectProvider.name: AmazonConnectProvider.from_settings,
}
assert {SimulatedProvider.name, *_REAL} == set(TELEPHONY_PROVIDERS)


def build(
    name: str, *, secret: Mapping[str, object], simulator_key: bytes, deployment: Deployment
) -> Provider:
    """The provider called `name`, from the telephony secret's value and the deployment.

    ProviderNotConfigured when it is unknown or the secret has no settings for it."""
    if name == SimulatedProvider.name:
        return SimulatedProvider(secret=simulator_key, queue_url=deployment.simulator_queue_url)
    if name not in _REAL:
        raise ProviderNotConfigured(
            f"telephony provider {name!r} is unknown (known: {', '.join(TELEPHONY_PROVIDERS)})"
        )
    settings = credentials.section(secret, name)
    try:
        return _REAL[name](settings, deployment.callback_url)
    except ValueError as error:
        raise ProviderNotConfigured(f"telephony secret: {error}") from None
