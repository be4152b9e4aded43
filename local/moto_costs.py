"""moto, made cheaper where the embedded runtime spends most of its time (profiled with
py-spy while bench/orchestration.py ran: a slot loop invokes Dial once per call).

- The Step Functions interpreter reuses one Lambda client. moto 5.2.5's interpreter
makes a new boto3 client for every `lambda:invoke` task
(`asl/utils/boto_client.py` `boto_client_for`): a client costs tens of milliseconds of
CPU to build, and each new one opens a new connection to `localhost`, which resolves
`::1` first. With a slot loop invoking Dial once per call, that was the embedded
runtime's largest single cost (profiled with py-spy during bench/orchestration.py).
Here the interpreter's Lambda tasks share one client per region, with a connection pool
as large as the Map's concurrency can use, pointed at 127.0.0.1. The client it builds
ignores the state's credentials in any case ("ak"/"sk"), so sharing changes nothing else.
- The server lists its backend modules once. For every request whose host names no
backend, moto 5.2.5's dispatcher (`moto_server/werkzeug_app.py`, under its one lock)
lists the moto package's directory and stats each entry (`backends.list_of_moto_modules`):
about a tenth of the runtime's CPU. The directory does not change while it runs.
"""

import threading
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from moto import backends
from moto.settings import moto_server_port
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

_originals: dict[str, Callable[..., Any]] = {}
_clients: dict[tuple[str, str], Any] = {}
_lock = threading.Lock()
# Connections kept open to the moto server: one per concurrent task is plenty.
_POOL = 256
_NAME = "boto_client_for"  # what lambda_eval_utils calls, imported from boto_client


def _shared_client(region: str, service: str, state_credentials: Any = None) -> Any:
    with _lock:
        client = _clients.get((region, service))
        if client is None:
            client = boto3.client(
                service,
                region_name=region,
                endpoint_url=f"http://127.0.0.1:{moto_server_port()}",
                aws_access_key_id="ak",
                aws_secret_access_key="sk",
                config=Config(
                    parameter_validation=False,
                    retries={"max_attempts": 0, "total_max_attempts": 1},
                    connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                    read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                    max_pool_connections=_POOL,
                ),
            )
            _clients[(region, service)] = client
        return client


def install() -> None:
    """Patch moto for this process; idempotent."""
    if _originals:
        return
    _originals["boto_client_for"] = getattr(lambda_eval_utils, _NAME)
    setattr(lambda_eval_utils, _NAME, _shared_client)
    listing = backends.list_of_moto_modules
    _originals["list_of_moto_modules"] = listing
    modules = tuple(listing())
    backends.list_of_moto_modules = lambda: modules


def uninstall() -> None:
    if not _originals:
        return
    setattr(lambda_eval_utils, _NAME, _originals.pop("boto_client_for"))
    backends.list_of_moto_modules = _originals.pop("list_of_moto_modules")
    with _lock:
        _clients.clear()
