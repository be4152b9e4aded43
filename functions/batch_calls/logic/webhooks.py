"""Per-batch webhooks: what is posted, how it is signed, and when a failed one is retried.

A delivery is a POST of a JSON event to the batch's URL, signed with the workspace's
webhook secret the way the providers sign their callbacks (telephony/signing.py):
`X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. The body
is the same bytes on every try; `X-Event-Id` (also `id` in the body) lets a receiver
drop a repeat. Any answer but a 2xx is a failure, retried with exponential backoff
(`retry_delay_seconds`) from the webhook queue, for more than 24 h, then dead-lettered.

A deployment posts to public addresses only: the address a connection reached is checked
before anything is sent, so neither a URL naming a private address nor a name that
resolves to one (at the time of sending) can reach a service inside the cloud network,
the function's own runtime API on 127.0.0.1, or a metadata endpoint. The embedded
runtime, whose receivers are on this machine, allows any address.
"""

import dataclasses
import http.client
import ipaddress
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from batch_calls.logic.ports import Workspaces
from batch_calls.telephony.signing import sign

BASE_DELAY_SECONDS = 5
MAX_DELAY_SECONDS = 4 * 3600
TIMEOUT_SECONDS = 10
USER_AGENT = "batch-calls-webhooks/1"


def delivery(workspace_id: str, url: str, kind: str, detail: dict[str, Any]) -> dict[str, Any]:
    """The queue message for one webhook: whom to post what (never the secret)."""
    return {
        "workspace_id": workspace_id,
        "url": url,
        "event_id": detail["event_id"],
        "type": kind,
        "body": {"id": detail["event_id"], "type": kind, "data": detail},
    }


def retry_delay_seconds(deliveries: int) -> int:
    """How long a delivery that failed for the `deliveries`-th time waits: 5 s doubling
    up to 4 h (SQS allows a message to stay invisible for at most 12 h)."""
    return int(min(BASE_DELAY_SECONDS * 2 ** (deliveries - 1), MAX_DELAY_SECONDS))


@dataclass(frozen=True)
class Attempt:
    delivered: bool
    detail: str  # the receiver's status, or why nothing was received
    # A failed try of `send`: how long until the next (retry_delay_seconds).
    retry_in_seconds: int = 0


def send(
    workspaces: Workspaces,
    message: dict[str, Any],
    deliveries: int,
    now: float,
    *,
    any_address: bool,
) -> Attempt:
    """One try at a queued webhook (its `deliveries`-th), signed with its workspace's
    secret; a failure says when the next try is due."""
    workspace = workspaces.get_workspace(message["workspace_id"])
    if workspace is None or not workspace.webhook_secret:
        tried = Attempt(False, "the workspace has no webhook secret to sign with")
    else:
        secret = workspace.webhook_secret.encode()
        tried = deliver(message, secret, deliveries, now, any_address=any_address)
    if tried.delivered:
        return tried
    return dataclasses.replace(tried, retry_in_seconds=retry_delay_seconds(deliveries))


def deliver(
    message: dict[str, Any], secret: bytes, attempt: int, now: float, *, any_address: bool = False
) -> Attempt:
    """POST the event once; redirects are not followed (a receiver moved is a failure
    its owner should see, not a hop with the signature elsewhere). Unless `any_address`,
    only to a public address."""
    body = json.dumps(message["body"], ensure_ascii=False, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Event-Id": message["event_id"],
        "X-Event-Type": message["type"],
        "X-Delivery-Attempt": str(attempt),
        **sign(secret, body, now),
    }
    request = urllib.request.Request(message["url"], data=body, method="POST", headers=headers)
    try:
        opener = _ANY_ADDRESS if any_address else _PUBLIC_ADDRESSES_ONLY
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            status = int(response.status)
    except urllib.error.HTTPError as error:
        status = error.code
    except (urllib.error.URLError, OSError, ValueError) as error:
        return Attempt(False, f"not delivered: {error}")
    return Attempt(200 <= status < 300, f"HTTP {status}")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class NotPublic(OSError):
    """The receiver's address is not a public one; nothing was sent."""


def is_public(address: str) -> bool:
    """Whether an IP address is reachable on the public internet (not private, loopback,
    link-local, shared, reserved or multicast); an IPv4 address written as IPv6 counts
    as itself."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class _PublicOnly(http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()  # for https, the TLS handshake too: no request was sent yet
        reached = self.sock.getpeername()[0]
        if not is_public(reached):
            self.sock.close()
            raise NotPublic(f"{self.host} is at {reached}, which is not a public address")


class _PublicHttpsOnly(_PublicOnly, http.client.HTTPSConnection):
    pass


class _PublicHttp(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_PublicOnly, req)


class _PublicHttps(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_PublicHttpsOnly, req)


_ANY_ADDRESS = urllib.request.build_opener(_NoRedirects)
_PUBLIC_ADDRESSES_ONLY = urllib.request.build_opener(_NoRedirects, _PublicHttp, _PublicHttps)
