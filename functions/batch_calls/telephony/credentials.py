"""The real providers' settings and credentials: one JSON object in the Secrets Manager
telephony secret (its ARN: `TELEPHONY_SECRET_ARN`), a key per provider:

    {"http": {...}, "twilio": {...}, "amazon_connect": {...}}

In AWS the secret is the stack's (infra.resources.TELEPHONY_SECRET), filled in by the
team; locally the embedded runtime creates it in moto from a file or the environment
(local/runtime.py). Functions read it through the same API either way, once per cold
start. Values are never logged nor put in an error message: messages name the key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import boto3  # type: ignore[import-untyped, unused-ignore]

from batch_calls.telephony.base import ProviderNotConfigured


def secret_text(arn: str, secrets_client: Any = None) -> str:
    """The value of the secret `arn` names; "" when there is none."""
    if not arn:
        return ""
    client = secrets_client or boto3.client("secretsmanager")
    try:
        return str(client.get_secret_value(SecretId=arn).get("SecretString") or "")
    except client.exceptions.ResourceNotFoundException:
        return ""


def load_secret(arn: str, secrets_client: Any = None) -> dict[str, Any]:
    """The whole telephony secret; {} when the deployment has none or it is still empty."""
    text = secret_text(arn, secrets_client)
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        raise ProviderNotConfigured("the telephony secret is not JSON") from None
    if not isinstance(value, dict):
        raise ProviderNotConfigured("the telephony secret must be a JSON object")
    return value


def section(secret: Mapping[str, Any], provider: str) -> Settings:
    value = secret.get(provider)
    if not isinstance(value, dict):
        raise ProviderNotConfigured(
            f"the telephony secret has no {provider!r} object: {provider} is not configured"
        )
    return Settings(provider, value)


class Settings:
    """One provider's object of the secret, read with messages that name the key only."""

    def __init__(self, provider: str, values: Mapping[str, Any]) -> None:
        self.provider = provider
        self._values = values

    def text(self, key: str, default: str | None = None) -> str:
        value = self._values.get(key, default)
        if not isinstance(value, str) or not value:
            raise ProviderNotConfigured(
                f"telephony secret: {self.provider}.{key} must be a non-empty string"
            )
        return value

    def url(self, key: str, default: str | None = None) -> str:
        value = self.text(key, default)
        if not value.startswith(("https://", "http://")):
            raise ProviderNotConfigured(
                f"telephony secret: {self.provider}.{key} must be an http(s) URL"
            )
        return value

    def optional_text(self, key: str) -> str | None:
        value = self._values.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise ProviderNotConfigured(f"telephony secret: {self.provider}.{key} must be a string")
        return value

    def number(self, key: str, default: float) -> float:
        value = self._values.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ProviderNotConfigured(
                f"telephony secret: {self.provider}.{key} must be a number above 0"
            )
        return float(value)

    def mapping(self, key: str) -> dict[str, str]:
        value = self._values.get(key) or {}
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise ProviderNotConfigured(
                f"telephony secret: {self.provider}.{key} must map strings to strings"
            )
        return dict(value)
