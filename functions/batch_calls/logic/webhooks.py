"""Per-batch webhooks: what is posted, how it is signed, and when a failed one is retried.

A delivery is a POST of a JSON event to the batch's URL, signed with the workspace's
webhook secret the way the providers sign their callbacks (telephony/signing.py):
`X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. The body
is the same bytes on every try; `X-Event-Id` (also `id` in the body) lets a receiver
drop a repeat. Any answer but a 2xx is a failure, retried with exponential backoff
(`retry_delay_seconds`) from the webhook queue, for more than 24 h, then dead-lettered.
"""

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

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


def deliver(message: dict[str, Any], secret: bytes, attempt: int, now: float) -> Attempt:
    """POST the event once; redirects are not followed (a receiver moved is a failure
    its owner should see, not a hop with the signature elsewhere)."""
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
        with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as response:
            status = int(response.status)
    except urllib.error.HTTPError as error:
        status = error.code
    except (urllib.error.URLError, OSError, ValueError) as error:
        return Attempt(False, f"not delivered: {error}")
    return Attempt(200 <= status < 300, f"HTTP {status}")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)
