"""The console's static routes (handlers/console.py), as API Gateway invokes them."""

from typing import Any

import pytest

from batch_calls.handlers import console, wiring


def _get(path: str, asset: str | None = None, public_path: str | None = None) -> dict[str, Any]:
    event = {
        "path": path,
        "pathParameters": None if asset is None else {"asset": asset},
        "requestContext": {"path": public_path or path},
    }
    return console.lambda_handler(event, None)


def test_the_page_is_served_at_the_root_with_its_security_headers() -> None:
    response = _get("/")
    assert response["statusCode"] == 200
    headers = response["headers"]
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert '<script type="module" src="console/app.js">' in response["body"]


def test_a_stage_address_without_its_slash_is_redirected_to_it() -> None:
    # https://{api}.execute-api.{region}.amazonaws.com/prod: relative files need /prod/.
    response = _get("/", public_path="/prod")
    assert (response["statusCode"], response["headers"]["Location"]) == (301, "/prod/")
    assert _get("/", public_path="/prod/")["statusCode"] == 200


def test_every_script_the_page_loads_is_served_as_javascript() -> None:
    for asset in ("app.js", "api.js", "dom.js", "batch.js", "batches.js", "new_batch.js"):
        response = _get(f"/console/{asset}", asset)
        assert response["statusCode"] == 200, asset
        assert response["headers"]["Content-Type"] == "text/javascript; charset=utf-8"
    assert _get("/console/console.css", "console.css")["headers"]["Content-Type"].startswith(
        "text/css"
    )


@pytest.mark.parametrize(
    "asset",
    [
        "../index.html",
        "../../handlers/console.py",
        "%2e%2e/index.html",
        "nope.js",
        "",
        "/etc/passwd",
    ],
)
def test_nothing_but_the_console_files_is_reachable(asset: str) -> None:
    response = _get(f"/console/{asset}", asset)
    assert response["statusCode"] == 404
    assert response["headers"]["Content-Type"] == "application/json"


def test_the_page_may_send_uploads_to_the_deployments_bucket_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bucket = "https://b.s3.amazonaws.com https://b.s3.eu-west-1.amazonaws.com"
    monkeypatch.setenv("UPLOAD_ORIGINS", bucket)  # as the stack names them
    wiring.forget()  # the deployment is read at cold start
    policy = _get("/")["headers"]["Content-Security-Policy"]
    wiring.forget()
    assert f"connect-src 'self' {bucket};" in policy
