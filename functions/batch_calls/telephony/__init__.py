"""Telephony providers behind one interface (`base.Provider`), chosen by the environment.

`provider()` is built once per cold start, like the stores: `TELEPHONY_PROVIDER` names
it (default `simulated`). The simulated provider places calls through
`SIMULATOR_QUEUE_URL` and verifies callbacks with `SIMULATOR_SECRET`; each is checked
when first needed, so the dial function is not given the webhook secret, nor the webhook
function the queue.
"""

import os
from functools import cache

from batch_calls.telephony.base import (
    CallEvent,
    CallRequest,
    InvalidSignature,
    Outcome,
    PermanentCallError,
    PlacedCall,
    Provider,
)
from batch_calls.telephony.simulated import SimulatedProvider

DEFAULT_PROVIDER = "simulated"


@cache
def provider() -> Provider:
    name = os.environ.get("TELEPHONY_PROVIDER") or DEFAULT_PROVIDER
    if name != SimulatedProvider.name:
        raise RuntimeError(f"TELEPHONY_PROVIDER: provider {name!r} is not available yet")
    return SimulatedProvider(
        secret=os.environ.get("SIMULATOR_SECRET", "").encode(),
        queue_url=os.environ.get("SIMULATOR_QUEUE_URL", ""),
    )


__all__ = [
    "CallEvent",
    "CallRequest",
    "InvalidSignature",
    "Outcome",
    "PermanentCallError",
    "PlacedCall",
    "Provider",
    "SimulatedProvider",
    "provider",
]
