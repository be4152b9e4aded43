"""A local API Gateway (REST API, Lambda proxy integrations) in front of the functions.

Requests are routed by the stack's own route table (infra.resources.ROUTES, which the
CDK API construct deploys): the most specific resource path wins, an explicit method
over ANY. Each HTTP request becomes the REST (v1) proxy event API Gateway sends, after
a REQUEST Lambda authorizer has been asked (but on public routes), with API Gateway's
answers where it answers itself: 401/403 from the authorizer, 403 for no route, 413
above its 10 MiB body limit or Lambda's 6 MB event, 502 when the function fails. The
functions run in-process (`local.lambda_runtime`), so requests reach handler code as
behind the deployed API.

Deliberately simpler than API Gateway: no authorizer result cache, no integration
timeout (a handler that runs past 29 s still answers), CORS left to the function.
"""

from __future__ import annotations

import base64
import contextlib
import fnmatch
import json
import logging
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, unquote, urlsplit

from moto.core.models import DEFAULT_ACCOUNT_ID

from infra.resources import BINARY_MEDIA_TYPES, ROUTES, RouteSpec
from local import lambda_runtime
from local.lambda_runtime import LambdaFunctionError

logger = logging.getLogger(__name__)

# API Gateway's request payload quota.
MAX_REQUEST_BYTES = 10 * 1024 * 1024
# A body over the quota is read and dropped up to this size (so the client sees the 413
# rather than a reset connection); beyond it the connection is closed.
_DISCARD_LIMIT = 16 * MAX_REQUEST_BYTES
STAGE = "local"
API_ID = "local"


UNAUTHORIZED = {"message": "Unauthorized"}
EXPLICIT_DENY = {"message": "User is not authorized to access this resource with an explicit deny"}
NOT_ALLOWED = {"message": "User is not authorized to access this resource"}
INTERNAL_ERROR = {"message": "Internal server error"}
AUTHORIZER_FAILURE: dict[str, Any] = {"message": None}  # API Gateway's 500 for a broken authorizer
# API Gateway's own 413, both above its 10 MiB quota and when the proxy event is over the
# 6 MB a function can receive (a binary body counts in base64): the function never runs,
# so its body cannot be the product's (docs/decisions.md, "Requests over 6 MB").
TOO_LONG = {"message": "Request Too Long"}


class HttpError(Exception):
    """An answer API Gateway gives itself, without the function."""

    def __init__(self, status: int, body: Mapping[str, Any]) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = dict(body)


MISSING_TOKEN = {"message": "Missing Authentication Token"}  # API Gateway: no such route


class Route:
    """A route of the table: a method and an API Gateway path pattern (`{name}` is one
    segment, `{name+}` the rest), the function behind it, and whether it is public."""

    def __init__(self, spec: RouteSpec) -> None:
        self.spec = spec
        self.method = spec.method.upper()
        self.pattern = spec.path
        regex = ""
        for part in re.split(r"(\{[^}]+\})", self.pattern):
            if part.startswith("{") and part.endswith("+}"):
                regex += f"(?P<{part[1:-2]}>.+)"
            elif part.startswith("{"):
                regex += f"(?P<{part[1:-1]}>[^/]+)"
            else:
                regex += re.escape(part)
        self._regex = re.compile(regex + r"\Z")
        literal = [part for part in self.pattern.split("/") if part and "{" not in part]
        # API Gateway prefers a path without a greedy segment, then the most literal
        # segments, then an explicit method over ANY.
        self.specificity = ("+}" not in self.pattern, len(literal), self.method != "ANY")

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("ANY", "*", method.upper()) and bool(self._regex.match(path))

    def parameters(self, path: str) -> dict[str, str] | None:
        """The path parameters API Gateway passes for `path` (None: none)."""
        found = self._regex.match(path)
        return (found.groupdict() or None) if found else None


class LocalApiGateway:
    """An HTTP server on 127.0.0.1 that serves the API as API Gateway would.

    `routes` is the route table (the stack's by default); its functions and `authorizer`
    are function names or logical ids known to the Lambda runtime; `authorizer=None`
    turns authorization off.
    """

    def __init__(
        self,
        *,
        routes: Iterable[RouteSpec] = ROUTES,
        authorizer: str | None = "AuthorizerFunction",
        binary_media_types: Sequence[str] = BINARY_MEDIA_TYPES,
        host: str = "127.0.0.1",
        port: int = 0,
        region: str = "us-east-1",
        account_id: str = DEFAULT_ACCOUNT_ID,
    ) -> None:
        self.routes = [Route(spec) for spec in routes]
        self.authorizer = authorizer
        self.binary_media_types = tuple(t.lower() for t in binary_media_types)
        self.region = region
        self.account_id = account_id
        self.host = host
        self._server = _Server((host, port), _RequestHandler, self)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="api-gateway", daemon=True
        )
        self._thread.start()

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- one request -------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """What API Gateway answers to `request`."""
        try:
            return self._handle(request)
        except HttpError as exc:
            return Response.json(exc.status, exc.body)

    def _handle(self, request: Request) -> Response:
        route = self.route_for(request.method, request.path)
        if route is None:
            raise HttpError(403, MISSING_TOKEN)
        event = self._proxy_event(request, route)
        if self.authorizer is not None and not route.spec.public:
            event["requestContext"]["authorizer"] = self._authorize(request, event)
        payload = json.dumps(event).encode()
        if len(payload) > lambda_runtime.SYNC_PAYLOAD_LIMIT:
            raise HttpError(413, TOO_LONG)
        function = route.spec.function
        try:
            outcome = lambda_runtime.invoke_raw(function, payload)
        except Exception:
            logger.exception("invoking %s failed", function)
            raise HttpError(502, INTERNAL_ERROR) from None
        if outcome.error:
            # The runtime has logged the traceback; say which request it was.
            logger.error(
                "%s %s (request %s): %s failed: %s",
                request.method,
                request.path,
                request.request_id,
                function,
                outcome.payload.decode(errors="replace"),
            )
            raise HttpError(502, INTERNAL_ERROR)
        return self._proxy_response(function, outcome.payload)

    def route_for(self, method: str, path: str) -> Route | None:
        """The route API Gateway would take for `method` and `path`, if any."""
        matches = [route for route in self.routes if route.matches(method, path)]
        return max(matches, key=lambda route: route.specificity) if matches else None

    def _proxy_event(self, request: Request, route: Route) -> dict[str, Any]:
        headers = dict(request.headers)
        multi_headers: dict[str, list[str]] = {}
        for name, value in request.headers:
            multi_headers.setdefault(name, []).append(value)
        query = parse_qsl(request.query, keep_blank_values=True)
        multi_query: dict[str, list[str]] = {}
        for name, value in query:
            multi_query.setdefault(name, []).append(value)
        body: str | None = None
        is_base64 = False
        if request.body:
            if self._is_binary(request.content_type):
                body, is_base64 = base64.b64encode(request.body).decode("ascii"), True
            else:
                try:
                    body = request.body.decode("utf-8")
                except UnicodeDecodeError:
                    body, is_base64 = base64.b64encode(request.body).decode("ascii"), True
        resource = route.pattern
        now = datetime.now(UTC)
        return {
            "resource": resource,
            "path": request.path,
            "httpMethod": request.method,
            "headers": headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": dict(query) or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": route.parameters(request.path),
            "stageVariables": None,
            "requestContext": {
                "accountId": self.account_id,
                "apiId": API_ID,
                "resourceId": uuid.uuid5(uuid.NAMESPACE_URL, resource).hex[:6],
                "resourcePath": resource,
                "httpMethod": request.method,
                "extendedRequestId": uuid.uuid4().hex[:16],
                "requestId": request.request_id,
                # The local URL has no stage segment, as behind a custom domain name.
                "path": request.path,
                "stage": STAGE,
                "protocol": request.protocol,
                "domainName": headers.get("Host") or headers.get("host") or "localhost",
                "domainPrefix": "localhost",
                "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "requestTimeEpoch": int(now.timestamp() * 1000),
                "identity": {
                    "sourceIp": request.client_ip,
                    "userAgent": headers.get("User-Agent") or headers.get("user-agent"),
                    "accountId": None,
                    "apiKey": None,
                    "apiKeyId": None,
                    "caller": None,
                    "cognitoAuthenticationProvider": None,
                    "cognitoAuthenticationType": None,
                    "cognitoIdentityId": None,
                    "cognitoIdentityPoolId": None,
                    "principalOrgId": None,
                    "user": None,
                    "userArn": None,
                },
            },
            "body": body,
            "isBase64Encoded": is_base64,
        }

    def _is_binary(self, content_type: str | None) -> bool:
        if not content_type:
            return False
        media_type = content_type.split(";", 1)[0].strip().lower()
        return any(fnmatch.fnmatchcase(media_type, t) for t in self.binary_media_types)

    def _method_arn(self, request: Request) -> str:
        return (
            f"arn:aws:execute-api:{self.region}:{self.account_id}:{API_ID}/{STAGE}/"
            f"{request.method}{request.path}"
        )

    def _authorize(self, request: Request, event: Mapping[str, Any]) -> dict[str, Any]:
        """Ask the REQUEST authorizer; the `requestContext.authorizer` it grants, or HttpError."""
        assert self.authorizer is not None
        method_arn = self._method_arn(request)
        authorizer_event = {
            "type": "REQUEST",
            "methodArn": method_arn,
            "resource": event["resource"],
            "path": event["path"],
            "httpMethod": event["httpMethod"],
            "headers": event["headers"],
            "multiValueHeaders": event["multiValueHeaders"],
            "queryStringParameters": event["queryStringParameters"],
            "multiValueQueryStringParameters": event["multiValueQueryStringParameters"],
            "pathParameters": event["pathParameters"],
            "stageVariables": event["stageVariables"],
            "requestContext": event["requestContext"],
        }
        started = time.monotonic()
        try:
            result = lambda_runtime.invoke(self.authorizer, authorizer_event)
        except LambdaFunctionError as exc:
            if exc.error_message == "Unauthorized":
                raise HttpError(401, UNAUTHORIZED) from None
            logger.error("authorizer %s failed: %s", self.authorizer, exc)
            raise HttpError(500, AUTHORIZER_FAILURE) from None
        latency = int((time.monotonic() - started) * 1000)
        if not isinstance(result, dict) or "principalId" not in result:
            logger.error("authorizer %s returned no principalId: %r", self.authorizer, result)
            raise HttpError(500, AUTHORIZER_FAILURE)
        effect = _policy_effect(result.get("policyDocument"), method_arn)
        if effect is None:
            logger.error("authorizer %s returned a malformed policy: %r", self.authorizer, result)
            raise HttpError(500, AUTHORIZER_FAILURE)
        if effect == "Deny":
            raise HttpError(403, EXPLICIT_DENY)
        if effect != "Allow":
            raise HttpError(403, NOT_ALLOWED)
        granted: dict[str, Any] = {}
        for key, value in (result.get("context") or {}).items():
            if isinstance(value, dict | list):
                # API Gateway accepts only strings, numbers and booleans in the context.
                logger.error("authorizer context %s is not a scalar: %r", key, value)
                raise HttpError(500, AUTHORIZER_FAILURE)
            granted[key] = _context_value(value)
        granted["principalId"] = str(result["principalId"])
        granted["integrationLatency"] = latency
        return granted

    def _proxy_response(self, function: str, payload: bytes) -> Response:
        """The HTTP response API Gateway makes of a proxy integration's result."""
        try:
            result = json.loads(payload)
            if not isinstance(result, dict):
                raise TypeError("not an object")
            status = result["statusCode"]
            if isinstance(status, bool) or not isinstance(status, int | str):
                raise TypeError(f"statusCode {status!r}")
            status = int(status)
            body = result.get("body")
            if body is not None and not isinstance(body, str):
                raise TypeError(f"body is {type(body).__name__}, not a string")
            if body is None:
                data = b""
            elif result.get("isBase64Encoded"):
                data = base64.b64decode(body, validate=True)
            else:
                data = body.encode("utf-8")
            headers: list[tuple[str, str]] = []
            multi = result.get("multiValueHeaders") or {}
            for name, values in multi.items():
                headers.extend((str(name), str(v)) for v in values)
            given = {name.lower() for name, _ in headers}
            for name, value in (result.get("headers") or {}).items():
                if str(name).lower() not in given:
                    headers.append((str(name), str(value)))
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            logger.error("%s: malformed Lambda proxy response (%r)", function, exc)
            raise HttpError(502, INTERNAL_ERROR) from None
        if not any(name.lower() == "content-type" for name, _ in headers):
            headers.append(("Content-Type", "application/json"))
        return Response(status, headers, data)


class Request:
    """An HTTP request as API Gateway sees it."""

    def __init__(
        self,
        *,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes,
        client_ip: str,
        protocol: str = "HTTP/1.1",
    ) -> None:
        parts = urlsplit(target)
        self.method = method.upper()
        self.path = unquote(parts.path) or "/"
        self.query = parts.query
        self.headers = headers
        self.body = body
        self.client_ip = client_ip
        self.protocol = protocol
        self.request_id = str(uuid.uuid4())

    @property
    def content_type(self) -> str | None:
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value
        return None


class Response:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.request_id = str(uuid.uuid4())

    @classmethod
    def json(cls, status: int, body: Mapping[str, Any]) -> Response:
        return cls(status, [("Content-Type", "application/json")], json.dumps(body).encode())


def _policy_effect(policy: Any, method_arn: str) -> str | None:
    """ "Deny" if a statement denies `method_arn`, "Allow" if one allows it, "" if none
    applies; None when the policy cannot be read."""
    if not isinstance(policy, dict) or not isinstance(policy.get("Statement"), list | dict):
        return None
    statements = policy["Statement"]
    if isinstance(statements, dict):
        statements = [statements]
    allowed = False
    for statement in statements:
        if not isinstance(statement, dict):
            return None
        actions = _as_list(statement.get("Action", []))
        resources = _as_list(statement.get("Resource", []))
        if not any(_arn_matches(a, "execute-api:Invoke") for a in actions):
            continue
        if not any(_arn_matches(r, method_arn) for r in resources):
            continue
        if statement.get("Effect") == "Deny":
            return "Deny"
        if statement.get("Effect") == "Allow":
            allowed = True
    return "Allow" if allowed else ""


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    return []


def _arn_matches(pattern: str, value: str) -> bool:
    # IAM wildcards: * any run of characters, ? one character.
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, value) is not None


def _context_value(value: Any) -> Any:
    # A REST API hands the function the authorizer's context values as strings.
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return None
    return str(value)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver listens with a backlog of 5: a burst of provider callbacks (every slot
    # of a 50-call batch ending at once) had connections reset. API Gateway takes them all.
    request_queue_size = 512

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        gateway: LocalApiGateway,
    ) -> None:
        super().__init__(address, handler)
        self.gateway = gateway

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.exception("API gateway: error serving %s", client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    # Every response closes its connection: no request body is ever left half-read.
    protocol_version = "HTTP/1.0"
    # Seconds a client may stall while sending its request.
    timeout = 60
    server_version = "local-api-gateway"

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_OPTIONS(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        logger.info("%s %s", self.address_string(), format % args)

    def _serve(self) -> None:
        started = time.monotonic()
        try:
            response = self._respond()
        except Exception:
            traceback.print_exc(file=sys.stderr)
            response = Response.json(500, INTERNAL_ERROR)
        with contextlib.suppress(OSError):  # the client went away
            self._write(response)
        logger.info(
            "%s %s -> %s (%d ms)",
            self.command,
            self.path,
            response.status,
            (time.monotonic() - started) * 1000,
        )

    def _respond(self) -> Response:
        try:
            body = self._read_body()
        except HttpError as exc:
            return Response.json(exc.status, exc.body)
        headers = list(self.headers.items())
        present = {name.lower() for name, _ in headers}
        client_ip = str(self.client_address[0])
        for name, value in (
            ("X-Forwarded-For", client_ip),
            ("X-Forwarded-Port", str(self.server.server_address[1])),
            ("X-Forwarded-Proto", "http"),
        ):
            if name.lower() not in present:
                headers.append((name, value))
        request = Request(
            method=self.command,
            target=self.path,
            headers=headers,
            body=body,
            client_ip=client_ip,
            protocol=self.request_version,
        )
        response = self.server.gateway.handle(request)
        response.request_id = request.request_id
        return response

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            # A request without a length has no body (RFC 9112, 6.3).
            return b""
        try:
            length = int(length_header)
            if length < 0:
                raise ValueError(length_header)
        except ValueError:
            raise HttpError(400, {"message": "Invalid Content-Length"}) from None
        if length > MAX_REQUEST_BYTES:
            self._discard(length)
            raise HttpError(413, TOO_LONG)
        body = self.rfile.read(length)
        if len(body) < length:
            raise HttpError(400, {"message": "Incomplete request body"})
        return body

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        size = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                chunk = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                raise HttpError(400, {"message": "Malformed chunked body"}) from None
            if chunk == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                break
            size += chunk
            if size > _DISCARD_LIMIT:
                self.close_connection = True
                raise HttpError(413, TOO_LONG)
            data = self.rfile.read(chunk)
            if len(data) < chunk:
                raise HttpError(400, {"message": "Incomplete request body"})
            if size <= MAX_REQUEST_BYTES:
                parts.append(data)
            self.rfile.readline(1024)  # the CRLF after the chunk
        if size > MAX_REQUEST_BYTES:
            raise HttpError(413, TOO_LONG)
        return b"".join(parts)

    def _discard(self, length: int) -> None:
        # Read what the client sends before answering, so it sees the answer rather than
        # a reset connection; a body far beyond the limit is not waited for.
        if length > _DISCARD_LIMIT:
            self.close_connection = True
            return
        remaining = length
        while remaining > 0:
            data = self.rfile.read(min(remaining, 1 << 20))
            if not data:
                break
            remaining -= len(data)

    def _write(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("x-amzn-RequestId", response.request_id)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
