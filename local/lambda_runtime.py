"""In-process Lambda: invocations that reach moto's Lambda run the configured handler here.

With moto's config `lambda.use_docker=False`, every `Invoke` request moto serves (boto3's
`lambda.invoke`, the Step Functions interpreter's `lambda:invoke` tasks, which call the
moto server over HTTP at `localhost:$MOTO_PORT`) ends in `LambdaSimpleBackend.invoke`.
`install()` replaces that method: it reads the function's Handler and Environment from
moto's Lambda backend, imports `module.function` and calls it with the decoded payload and
a Lambda-like context, and reports a handler exception the way Lambda does (header
`x-amz-function-error: Unhandled` and a body `{"errorMessage", "errorType", ...}`, which
boto3 shows as `FunctionError`).

Environment: every function of this stack resolves its variables to the same values (one
table, one bucket, one queue of each kind), so the embedded runtime exports their union
into `os.environ` once at startup instead of swapping variables per call, which could not
be done safely while several handlers run in threads. A function whose variable is
missing from `os.environ` gets it set on its first call; a variable whose value differs
from the one already exported is logged as a conflict (the handler sees the exported one).

Not routed here: moto paths that call `LambdaFunction.invoke` directly (S3 notifications
straight to Lambda, SNS, DynamoDB streams, CloudWatch Logs subscriptions, the legacy
`InvokeAsync` API). The stack uses none of them: its event-driven functions are fed by
SQS event source mappings, which `local.sqs_poller` serves.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.awslambda.exceptions import LambdaClientError
from moto.awslambda.models import LambdaFunction
from moto.awslambda.utils import get_backend
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core.models import DEFAULT_ACCOUNT_ID

logger = logging.getLogger(__name__)

# Lambda's synchronous invocation limit, for the request and for the response.
SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024

Handler = Callable[[Any, Any], Any]


class LambdaFunctionError(Exception):
    """A function's invocation failed: the handler raised, or it could not be run."""

    def __init__(self, function_name: str, payload: Mapping[str, Any]) -> None:
        self.function_name = function_name
        self.payload = dict(payload)
        self.error_type = str(payload.get("errorType", "Unhandled"))
        self.error_message = str(payload.get("errorMessage", ""))
        super().__init__(f"{function_name}: {self.error_type}: {self.error_message}")


class InvalidRequestContentError(LambdaClientError):
    """What Lambda answers (HTTP 400) to a payload that is not JSON."""

    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("InvalidRequestContentException", message)


@dataclass
class LambdaContext:
    """The attributes of the Python runtime's context object that handlers and Powertools read."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float = field(repr=False)
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class Invocation:
    """The outcome of one invocation: the JSON payload Lambda returns and whether it is an error."""

    payload: bytes
    error: bool

    def result(self, function_name: str) -> Any:
        decoded = json.loads(self.payload) if self.payload else None
        if self.error:
            raise LambdaFunctionError(function_name, decoded or {})
        return decoded


class _State:
    def __init__(self, aliases: Mapping[str, str], region: str, account_id: str) -> None:
        self.aliases = dict(aliases)
        self.region = region
        self.account_id = account_id
        self.handlers: dict[str, Handler] = {}
        self.conflicts_reported: set[str] = set()
        self.lock = threading.Lock()


class _Installation:
    """What `install` changed, so that `uninstall` can put it back."""

    state: _State | None = None
    original_invoke: Any = None


_installation = _Installation()


def install(
    aliases: Mapping[str, str] | None = None,
    *,
    region: str | None = None,
    account_id: str = DEFAULT_ACCOUNT_ID,
) -> None:
    """Route moto's Lambda invocations to in-process handlers.

    `aliases` maps other names (the stack's logical ids) to function names, for `invoke`.
    """
    if _installation.state is not None:
        raise RuntimeError("the local Lambda runtime is already installed")
    _installation.state = _State(
        aliases or {},
        region or os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        account_id,
    )
    _installation.original_invoke = LambdaSimpleBackend.__dict__["invoke"]
    LambdaSimpleBackend.invoke = _backend_invoke  # type: ignore[method-assign]


def uninstall() -> None:
    if _installation.state is None:
        return
    LambdaSimpleBackend.invoke = _installation.original_invoke  # type: ignore[method-assign]
    _installation.state = None
    _installation.original_invoke = None


def installed() -> bool:
    return _installation.state is not None


def invoke(function: str, payload: Any = None) -> Any:
    """Invoke a function synchronously, in this thread, and return its decoded result.

    `function` is a logical id registered with `install`, a function name or an ARN.
    Raises `LambdaFunctionError` when the handler raises.
    """
    name = resolve(function)
    # Through JSON, as Lambda passes it: the handler gets its own copy, in JSON types.
    return invoke_raw(name, json.dumps(payload).encode()).result(name)


def invoke_raw(function: str, payload: bytes) -> Invocation:
    """Invoke a function with a JSON payload as bytes, as Lambda's Invoke API receives it."""
    state = _require_state()
    backend = get_backend(state.account_id, state.region)
    fn = backend.get_function(resolve(function), None)
    return run(fn, _decode(payload))


def resolve(function: str) -> str:
    state = _require_state()
    return state.aliases.get(function, function)


def run(fn: LambdaFunction, event: Any) -> Invocation:
    """Run `fn`'s handler with `event` (decoded JSON) and return what Lambda would answer."""
    state = _require_state()
    request_id = str(uuid.uuid4())
    started = time.monotonic()
    context = LambdaContext(
        function_name=fn.function_name,
        function_version="$LATEST",
        invoked_function_arn=fn.function_arn,
        memory_limit_in_mb=int(fn.memory_size),
        aws_request_id=request_id,
        log_group_name=f"/aws/lambda/{fn.function_name}",
        log_stream_name=(f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"),
        deadline=started + float(fn.timeout),
    )
    _export_environment(state, fn)
    try:
        handler = _load_handler(state, str(fn.handler))
    except _InitError as exc:
        logger.error("%s: %s: %s", fn.function_name, exc.error_type, exc)
        return _error(exc.error_type, str(exc), request_id, [])
    try:
        result = handler(event, context)
    except Exception as exc:
        if str(exc) == "Unauthorized" or getattr(exc, "is_answer", False):
            # An authorizer's 401, or a signal a workflow routes on: an answer, not a
            # failure (Lambda reports it as an error all the same).
            logger.info("%s (request %s): %r", fn.function_name, request_id, exc)
        else:
            logger.error(
                "%s (request %s) raised:\n%s",
                fn.function_name,
                request_id,
                "".join(traceback.format_exception(exc)),
            )
        stack = traceback.format_list(traceback.extract_tb(exc.__traceback__)[1:])
        return _error(type(exc).__name__, str(exc), request_id, stack)
    finally:
        elapsed = time.monotonic() - started
        if elapsed > fn.timeout:
            # Lambda would have stopped the handler; here it ran to its end.
            logger.warning(
                "%s ran %.1f s, over its %s s timeout", fn.function_name, elapsed, fn.timeout
            )
    try:
        body = json.dumps(result).encode()
    except (TypeError, ValueError) as exc:
        return _error("Runtime.MarshalError", f"Unable to marshal response: {exc}", request_id, [])
    if len(body) > SYNC_PAYLOAD_LIMIT:
        return _error(
            "Function.ResponseSizeTooLarge",
            "Response payload size exceeded maximum allowed payload size "
            f"({SYNC_PAYLOAD_LIMIT} bytes).",
            request_id,
            [],
        )
    return Invocation(body, error=False)


def _backend_invoke(  # noqa: PLR0917 (moto's signature)
    self: LambdaSimpleBackend,
    function_name: str,
    qualifier: str | None,
    body: Any,
    headers: Any,
    response_headers: Any,
) -> bytes:
    """The replacement of `LambdaSimpleBackend.invoke` (same signature)."""
    fn = self.get_function(function_name, qualifier)
    invocation_type = (headers or {}).get("X-Amz-Invocation-Type") or "RequestResponse"
    event = _decode(body)  # a payload that is not JSON is the caller's error, as in Lambda
    if invocation_type == "DryRun":
        return b""
    if invocation_type == "Event":
        threading.Thread(
            target=_run_async, args=(fn, event), name=f"lambda-{fn.function_name}", daemon=True
        ).start()
        return b""
    outcome = run(fn, event)
    if outcome.error:
        response_headers["x-amz-function-error"] = "Unhandled"
    response_headers["x-amz-executed-version"] = "$LATEST"
    return outcome.payload


def _run_async(fn: LambdaFunction, event: Any) -> None:
    # Lambda retries a failed asynchronous invocation twice; here a failure is only logged
    # (by `run`), so a bug shows at once instead of three times.
    run(fn, event)


def _decode(payload: bytes | str | None) -> Any:
    if payload is None or payload in (b"", ""):
        return {}
    try:
        return json.loads(payload)
    except ValueError as exc:
        raise InvalidRequestContentError(f"Could not parse request body into json: {exc}") from exc


class _InitError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def _load_handler(state: _State, handler_path: str) -> Handler:
    with state.lock:
        cached = state.handlers.get(handler_path)
    if cached is not None:
        return cached
    module_name, _, function_name = handler_path.rpartition(".")
    if not module_name:
        raise _InitError(
            "Runtime.MalformedHandlerName", f"Bad handler '{handler_path}': not enough values"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise _InitError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from exc
    handler = getattr(module, function_name, None)
    if not callable(handler):
        raise _InitError(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        )
    with state.lock:
        state.handlers[handler_path] = handler
    return handler  # type: ignore[no-any-return]


def _export_environment(state: _State, fn: LambdaFunction) -> None:
    variables: dict[str, str] = fn.environment_vars or {}
    for name, value in variables.items():
        current = os.environ.setdefault(name, value)
        if current != value:
            key = f"{fn.function_name}:{name}"
            with state.lock:
                if key in state.conflicts_reported:
                    continue
                state.conflicts_reported.add(key)
            logger.warning(
                "%s wants %s=%r but the process has %r; the handler sees the latter",
                fn.function_name,
                name,
                value,
                current,
            )


def _error(error_type: str, message: str, request_id: str, stack: list[str]) -> Invocation:
    body = {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": stack,
    }
    return Invocation(json.dumps(body).encode(), error=True)


def _require_state() -> _State:
    if _installation.state is None:
        raise RuntimeError("the local Lambda runtime is not installed (local.lambda_runtime)")
    return _installation.state
