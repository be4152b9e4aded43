"""Providers built from the telephony secret (Secrets Manager, moto in-process), and the
webhook route's answers for providers that are unknown or not configured."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from batch_calls.handlers import call_events, wiring
from batch_calls.telephony.amazon_connect import AmazonConnectProvider
from batch_calls.telephony.base import ProviderNotConfigured
from batch_calls.telephony.http import HttpProvider
from batch_calls.telephony.twilio import TwilioProvider
from cli.common import UsageError
from cli.local import read_telephony_secret
from infra.resources import CALL_EVENTS_FUNCTION, CONTACT_EVENTS_FUNCTION, DIAL_FUNCTION

HTTP = {
    "call_url": "https://platform.example.com/calls",
    "status_url": "https://platform.example.com/calls/{call_id}",
    "signing_secret": "s3cret-value",
}


@pytest.fixture
def put_secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with mock_aws():
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
        monkeypatch.setenv("CALLBACK_URL", "https://api.example.com/prod")
        client = boto3.client("secretsmanager")
        arn = client.create_secret(Name="telephony", SecretString="{}")["ARN"]
        monkeypatch.setenv("TELEPHONY_SECRET_ARN", arn)

        def put(value: Any) -> None:
            text = value if isinstance(value, str) else json.dumps(value)
            client.put_secret_value(SecretId=arn, SecretString=text)
            wiring.forget()

        wiring.forget()
        yield put
        wiring.forget()


def test_each_provider_is_built_from_its_object(put_secret: Any) -> None:
    put_secret(
        {
            "http": HTTP,
            "twilio": {"account_sid": "AC1", "auth_token": "t", "stream_url": "wss://a"},
            "amazon_connect": {"instance_id": "i-1", "contact_flows": {"agt": "flow"}},
        }
    )
    http = wiring.provider("http")
    assert isinstance(http, HttpProvider)
    assert http.callback_url == "https://api.example.com/prod/provider-events/http"
    assert isinstance(wiring.provider("twilio"), TwilioProvider)
    connect = wiring.provider("amazon_connect")
    assert isinstance(connect, AmazonConnectProvider) and connect.contact_flows == {"agt": "flow"}
    assert wiring.provider("http") is http  # once per cold start


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ({}, "has no 'http' object"),
        ({"http": {**HTTP, "call_url": ""}}, r"http\.call_url must be a non-empty string"),
        ({"http": {**HTTP, "status_url": "https://p/status"}}, "status_url must contain"),
        ({"http": {**HTTP, "call_url": "platform/calls"}}, r"call_url must be an http\(s\) URL"),
        ({"http": {**HTTP, "timeout_seconds": -1}}, "timeout_seconds must be a number"),
        ("not json", "is not JSON"),
        ("[1]", "must be a JSON object"),
    ],
)
def test_a_bad_secret_says_which_key_never_a_value(
    put_secret: Any, secret: Any, message: str
) -> None:
    put_secret(secret)
    with pytest.raises(ProviderNotConfigured, match=message) as error:
        wiring.provider("http")
    assert "s3cret-value" not in str(error.value)


def test_unknown_providers_are_refused(put_secret: Any) -> None:
    with pytest.raises(ProviderNotConfigured, match="'vonage' is unknown"):
        wiring.provider("vonage")


def webhook(path: str) -> dict[str, Any]:
    event = {"httpMethod": "POST", "path": path, "headers": {}, "body": "{}"}
    return call_events.lambda_handler(event, _Context())


class _Context:
    function_name = "call-events"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:call-events"
    aws_request_id = "req-1"


def test_the_route_answers_404_for_providers_it_cannot_serve(put_secret: Any) -> None:
    put_secret({"http": HTTP})
    assert webhook("/provider-events/twilio")["statusCode"] == 404  # not configured
    assert webhook("/provider-events/amazon_connect")["statusCode"] == 404  # EventBridge only
    assert webhook("/provider-events/vonage")["statusCode"] == 404
    assert webhook("/provider-events/http")["statusCode"] == 401  # served: unsigned


def test_the_functions_that_need_the_secret_are_given_it() -> None:
    for spec in (DIAL_FUNCTION, CALL_EVENTS_FUNCTION, CONTACT_EVENTS_FUNCTION):
        assert spec.environment["TELEPHONY_SECRET_ARN"] == "TelephonySecret"
        assert spec.environment["CALLBACK_URL"] == "${CallbackUrl}"


def test_local_up_reads_the_secret_file_or_says_what_is_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = tmp_path / "secret.json"
    good.write_text(json.dumps({"http": HTTP}))
    assert json.loads(read_telephony_secret(good) or "") == {"http": HTTP}
    for text, message in (("{", "is not JSON"), ("[]", "must hold a JSON object")):
        good.write_text(text)
        with pytest.raises(UsageError, match=message):
            read_telephony_secret(good)
    with pytest.raises(UsageError, match="cannot read"):
        read_telephony_secret(tmp_path / "missing.json")
    monkeypatch.setenv("TELEPHONY_SECRET", '{"twilio": {}}')
    assert read_telephony_secret(None) == '{"twilio": {}}'


def test_unknown_contacts_are_handed_back_a_few_times_then_dropped() -> None:
    """Their ContactId may not be stored yet; after that they are not this product's."""
    tries = [
        call_events.hand_back_unknown({"attributes": {"ApproximateReceiveCount": str(n)}})
        for n in range(1, 6)
    ]
    assert tries == [True, True, False, False, False]
    assert call_events.hand_back_unknown({}) is True
