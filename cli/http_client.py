"""Just enough HTTP for the CLI and the tests: JSON and multipart, as curl sends them."""

import json
import secrets
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlsplit

from cli.common import UsageError


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_NO_REDIRECTS = urllib.request.build_opener(_NoRedirects)
_FOLLOW_REDIRECTS = urllib.request.build_opener()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any


def multipart(
    fields: dict[str, str], files: dict[str, tuple[str, bytes]] | None = None
) -> tuple[bytes, str]:
    """A multipart/form-data body and its content type."""
    boundary = "----batchcalls" + secrets.token_hex(8)
    parts: list[bytes] = []
    for name, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(f"{head}{value}\r\n".encode())
    for name, (filename, data) in (files or {}).items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def send(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
    follow_redirects: bool = True,
) -> Reply:
    """One request; an HTTP error status (or a redirect not followed) is a Reply too, not
    an exception."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    opener = _FOLLOW_REDIRECTS if follow_redirects else _NO_REDIRECTS
    try:
        with opener.open(request, timeout=timeout) as response:
            return _reply(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return _reply(error.code, dict(error.headers), error.read())
    except OSError as error:  # URLError included: nothing answered
        raise _unreachable(url, error) from None


def _unreachable(url: str, error: OSError) -> UsageError:
    reason = getattr(error, "reason", None) or error
    return UsageError(f"cannot reach {urlsplit(url).netloc}: {reason} (is --api-url right?)")


def _reply(status: int, headers: dict[str, str], raw: bytes) -> Reply:
    try:
        body: Any = json.loads(raw) if raw else None
    except ValueError:
        body = raw.decode(errors="replace")
    return Reply(status, {k.lower(): v for k, v in headers.items()}, body)


def download(url: str, out: IO[bytes], *, headers: dict[str, str], timeout: float = 60) -> Reply:
    """GET `url` into `out` in chunks. A redirect is followed once, without `headers`: the
    API's key is not for the presigned URL's host. The Reply's body is None on success,
    else the error body."""
    request = urllib.request.Request(url, headers=headers)
    try:
        response = _NO_REDIRECTS.open(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        location = error.headers.get("Location")
        if error.code in {301, 302, 303, 307, 308} and location:
            return download(location, out, headers={}, timeout=timeout)
        return _reply(error.code, dict(error.headers), error.read())
    except OSError as error:
        raise _unreachable(url, error) from None
    with response:
        shutil.copyfileobj(response, out)
        return Reply(response.status, {k.lower(): v for k, v in response.headers.items()}, None)
