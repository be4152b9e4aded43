"""The web console's static files (functions/batch_calls/console/): `GET /` is the page,
`GET /console/{asset+}` its scripts and styles.

Public routes: the files hold no data and no secret; every call the page makes goes to
the API with the key its user pastes, so it can do nothing the API does not allow.
"""

import json
from pathlib import Path
from typing import Any

from batch_calls.handlers import wiring

CONSOLE = Path(__file__).resolve().parents[1] / "console"
# Every file that can be served, by its path under /console/: nothing else is reachable.
ASSETS = {
    path.relative_to(CONSOLE / "assets").as_posix(): path
    for path in sorted((CONSOLE / "assets").rglob("*"))
    if path.is_file()
}
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# The page runs only its own files and talks only to its own origin (the API), and to S3
# for the presigned uploads of large contact files: UPLOAD_ORIGINS, the bucket's
# addresses (infra/resources.py).
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' {uploads}; "
    "img-src 'self' data:; base-uri 'self'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # A new deployment's files are picked up at once (they are a few kilobytes).
    "Cache-Control": "no-cache",
}


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    asset = (event.get("pathParameters") or {}).get("asset")
    if asset is None:
        return _page(event)
    path = ASSETS.get(asset)
    if path is None:
        return _not_found(event)
    return _file(path)


def _page(event: dict[str, Any]) -> dict[str, Any]:
    # The page loads console/... relative to its own address: at https://host/prod (the
    # stage without a slash) that would be https://host/console/..., so add the slash.
    public_path = str((event.get("requestContext") or {}).get("path") or "/")
    if not public_path.endswith("/"):
        return {"statusCode": 301, "headers": {"Location": public_path + "/"}, "body": ""}
    return _file(CONSOLE / "index.html")


def _file(path: Path) -> dict[str, Any]:
    return {
        "statusCode": 200,
        "headers": {
            "Content-Type": CONTENT_TYPES[path.suffix],
            "Content-Security-Policy": POLICY.format(uploads=wiring.deployment().upload_origins),
            **HEADERS,
        },
        "body": path.read_text(encoding="utf-8"),
    }


def _not_found(event: dict[str, Any]) -> dict[str, Any]:
    body = {"error": "not_found", "message": f"there is no {event.get('path')}"}
    return {
        "statusCode": 404,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }
