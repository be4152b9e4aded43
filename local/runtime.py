"""The whole product on this machine: embedded AWS, the local API, the simulated
provider, and a demo workspace."""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from batch_calls.deployment import DEFAULT_PROVIDER
from batch_calls.handlers import idempotency, wiring
from batch_calls.logic.admin import NewWorkspace
from infra.resources import (
    DIAL_SETTINGS,
    FUNCTIONS,
    ROUTES,
    TELEPHONY_PROVIDER_SETTING,
    TELEPHONY_SECRET,
    setting_name,
)
from local.api_gateway import LocalApiGateway
from local.aws import EmbeddedAws
from local.clock import ShiftedClock
from local.demo import seed_workspace
from local.simulator_api import LOCAL_FUNCTIONS, LOCAL_ROUTES, local_settings

ENV_FILE = Path(".local") / "env"


@dataclass(frozen=True)
class LocalRuntime:
    aws: EmbeddedAws
    gateway: LocalApiGateway
    demo: NewWorkspace
    clock: ShiftedClock

    def env(self) -> dict[str, str]:
        """What a shell needs to use this runtime with curl and the AWS CLI."""
        return {
            "API_URL": self.gateway.url,
            # The web console: GET / of the API.
            "CONSOLE_URL": self.gateway.url + "/",
            "API_KEY": self.demo.api_key,
            # Signs the demo workspace's webhooks (docs/events.md).
            "WEBHOOK_SECRET": self.demo.workspace.webhook_secret or "",
            "WORKSPACE_ID": self.demo.workspace.workspace_id,
            "BUCKET": wiring.blobs().bucket,
            **self.aws.connection_env(),
            "TABLE_NAME": wiring.database().table.name,
        }

    def write_env_file(self, path: Path = ENV_FILE) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{name}={value}\n" for name, value in self.env().items()))
        return path


def forget_clients() -> None:
    """The services are built once per process; a new runtime listens on new ports."""
    wiring.forget()
    idempotency.runner.cache_clear()


@contextmanager
def running(
    port: int = 0,
    dial_settings: Mapping[str, int] = DIAL_SETTINGS,
    *,
    telephony_secret: str | None = None,
    telephony_provider: str | None = None,
) -> Iterator[LocalRuntime]:
    """Start everything; stop it all on exit (Ctrl-C included).

    `telephony_secret` is the value of the stack's telephony secret (the real providers'
    settings and credentials, docs/providers/), `telephony_provider` the deployment's
    default provider (simulated when None).

    The gateway is made first: its URL is where providers call back. The product runs
    on `clock` (LocalRuntime.clock), which tests may move.
    CloudWatch metrics are off: on a terminal their EMF lines are noise (Powertools
    still collects them, so the code paths are the deployed ones)."""
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    clock = ShiftedClock()
    gateway = LocalApiGateway(port=port, routes=(*ROUTES, *LOCAL_ROUTES))
    settings = local_settings(gateway.url)
    # As a deployment, the runtime always names its default provider (infra/stack.py).
    settings[str(setting_name(TELEPHONY_PROVIDER_SETTING))] = telephony_provider or DEFAULT_PROVIDER
    with EmbeddedAws(
        (*FUNCTIONS, *LOCAL_FUNCTIONS),
        settings=settings,
        dial_settings=dial_settings,
        secret_values={TELEPHONY_SECRET.logical_id: telephony_secret} if telephony_secret else {},
        clock=clock.now,
    ) as aws:
        forget_clients()
        wiring.use_clock(clock.now)
        try:
            with gateway:
                yield LocalRuntime(aws, gateway, seed_workspace(wiring.database()), clock)
        finally:
            wiring.use_clock(wiring.utc_now)
            forget_clients()
