"""What a deployment tells a function, read from its environment once at cold start.

The stack (infra/resources.py, each FunctionSpec's `environment`) and the embedded
runtime set these variables; each function gets only those it needs, so a value is
checked when a service first needs it (`required`): the dial function is not given the
idempotency table, nor the authorizer the queues. Nothing else reads the environment.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import timedelta

DEFAULT_PROVIDER = "simulated"


@dataclass(frozen=True)
class Deployment:
    """Each field is the environment variable of its name in capitals ("" when unset)."""

    table_name: str = ""
    bucket_name: str = ""
    load_queue_url: str = ""
    webhook_queue_url: str = ""
    event_bus_name: str = ""
    state_machine_arn: str = ""
    scheduler_group: str = ""
    scheduler_role_arn: str = ""
    start_round_function_arn: str = ""
    idempotency_table_name: str = ""
    # Telephony: the deployment's default provider, the secrets the providers read at run
    # time (never a credential itself), the simulated provider's queue, and the API's
    # public URL that providers call back.
    telephony_provider: str = DEFAULT_PROVIDER
    telephony_secret_arn: str = ""
    simulator_secret_arn: str = ""
    simulator_queue_url: str = ""
    callback_url: str = ""
    call_watch_seconds: str = ""
    # The bucket's addresses the console's page may send presigned uploads to.
    upload_origins: str = ""
    # "any" in the embedded runtime (webhook receivers on this machine); deployed: public.
    webhook_addresses: str = ""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> "Deployment":
        given = {f.name: environ.get(variable(f.name), "") for f in fields(cls)}
        return cls(**{name: value for name, value in given.items() if value})

    def required(self, name: str) -> str:
        value = str(getattr(self, name))
        if not value:
            raise RuntimeError(f"environment variable {variable(name)} is not set")
        return value

    @property
    def call_watch(self) -> timedelta | None:
        """How long a slot waits for a call's outcome before asking the provider (the
        deployment's CallWatchSeconds setting); None: the product's default."""
        seconds = self.call_watch_seconds
        return None if not seconds else timedelta(seconds=int(seconds))

    @property
    def webhooks_to_any_address(self) -> bool:
        return self.webhook_addresses == "any"


def variable(name: str) -> str:
    """The environment variable of a Deployment field."""
    return name.upper()


VARIABLES = frozenset(variable(f.name) for f in fields(Deployment))
