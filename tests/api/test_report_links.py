"""`?as=url` on the report and the audit: a JSON answer with a presigned S3 URL whatever
the CSV's size, which a browser opens without the API key (the console's downloads)."""

from datetime import datetime, timedelta

import pytest

from batch_calls.logic import reports
from cli.http_client import send
from local import runtime
from tests.api.client import Client
from tests.local.support import wait_until


@pytest.fixture
def batch_id(client: Client) -> str:
    """A draft whose recipients are all loaded (they load after the answer), so that two
    reads of its CSV see the same rows."""
    created = client.create({"start": "false", "name": "Linked report"})
    assert created.status == 201, created.body
    batch, total = str(created.body["id"]), created.body["total_leads"]
    path = f"/batch-calls/{batch}/recipients?limit=1000"
    wait_until(lambda: len(client.request("GET", path).body["data"]) == total)
    return batch


def _downloaded(url: str) -> str:
    reply = send("GET", url, body=None, headers={})  # no API key: the URL is the grant
    assert reply.status == 200, reply.body
    assert isinstance(reply.body, str)
    return reply.body.removeprefix("\ufeff")


def _link(client: Client, path: str, product: runtime.LocalRuntime) -> str:
    asked_at = product.clock.now()
    reply = client.request("GET", f"{path}?as=url")
    assert reply.status == 200, reply.body
    assert reply.headers["content-type"].startswith("application/json")
    assert set(reply.body) == {"url", "expires_at"}
    assert reply.body["url"].startswith(product.aws.endpoint_url)
    expires_at = datetime.fromisoformat(reply.body["expires_at"])
    assert timedelta(minutes=15) <= expires_at - asked_at < timedelta(minutes=16)
    return str(reply.body["url"])


@pytest.mark.parametrize("csv", ["report", "audit"])
def test_a_small_csv_asked_as_url_is_a_link_to_the_same_csv(
    client: Client, batch_id: str, product: runtime.LocalRuntime, csv: str
) -> None:
    path = f"/batch-calls/{batch_id}/{csv}"
    inline = client.request("GET", path)
    assert inline.status == 200
    assert inline.headers["content-type"].startswith("text/csv")
    assert _downloaded(_link(client, path, product)) == inline.body.removeprefix("\ufeff")
    if csv == "report":
        assert "Priya Sharma" in inline.body


@pytest.mark.parametrize("csv", ["report", "audit"])
def test_a_large_csv_is_a_redirect_or_asked_as_url_a_link(
    client: Client,
    batch_id: str,
    product: runtime.LocalRuntime,
    csv: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = f"/batch-calls/{batch_id}/{csv}"
    inline = client.request("GET", path).body.removeprefix("\ufeff")
    monkeypatch.setattr(reports, "INLINE_LIMIT_BYTES", 10)  # every CSV is large now
    redirect = client.request("GET", path, follow_redirects=False)
    assert redirect.status == 303
    assert _downloaded(_link(client, path, product)) == inline


def test_an_unknown_as_is_refused_naming_it(client: Client, batch_id: str) -> None:
    reply = client.request("GET", f"/batch-calls/{batch_id}/report?as=pdf")
    assert reply.status == 400
    assert reply.body["field"] == "as"
    assert "'csv' or 'url'" in reply.body["message"]


def test_a_link_to_the_csv_of_another_workspace_is_not_given(
    other_client: Client, batch_id: str
) -> None:
    reply = other_client.request("GET", f"/batch-calls/{batch_id}/report?as=url")
    assert reply.status == 404
    assert reply.body["error"] == "not_found"
