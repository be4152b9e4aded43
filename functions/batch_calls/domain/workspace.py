"""Workspaces: who may call, from which numbers, with which agents, to where."""

import hashlib
import re
import secrets
from collections.abc import Mapping
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from batch_calls.domain.batch import MAX_CALLS_PER_SECOND, CallingWindow, Profile
from batch_calls.domain.compliance import MAX_CONTACT_LIMITS, ContactLimit
from batch_calls.domain.telephony_config import TelephonyConfig

API_KEY_PREFIX = "bck_"
WEBHOOK_SECRET_PREFIX = "whsec_"
# The telephony providers a workspace may choose (functions/batch_calls/telephony/).
TELEPHONY_PROVIDERS = ("simulated", "http", "twilio", "amazon_connect")
DEFAULT_CONCURRENCY_LIMIT = 50
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")


class Workspace(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    workspace_id: str
    name: str
    telephony: TelephonyConfig = TelephonyConfig()
    max_concurrent_calls: int = Field(default=DEFAULT_CONCURRENCY_LIMIT, ge=1)
    created_at: datetime
    # The HMAC key that signs this workspace's outgoing webhooks. Unlike an API key it
    # is kept as is: signing needs the key itself.
    webhook_secret: str | None = None
    # Who places this workspace's calls; None: the deployment's default provider.
    telephony_provider: str | None = None

    @field_validator("telephony_provider")
    @classmethod
    def _known_provider(cls, name: str | None) -> str | None:
        if name is not None and name not in TELEPHONY_PROVIDERS:
            raise ValueError(f"{name!r} is not one of {', '.join(TELEPHONY_PROVIDERS)}")
        return name

    # Applied to a batch created without a calling_window of its own.
    calling_window: CallingWindow | None = None
    # Call starts per second across all the workspace's batches (the provider's limit).
    max_calls_per_second: int | None = Field(default=None, ge=1, le=MAX_CALLS_PER_SECOND)
    # Placed calls to one number across all batches: at most max_calls per per_hours.
    contact_limits: tuple[ContactLimit, ...] = Field(default=(), max_length=MAX_CONTACT_LIMITS)
    # The rules every batch of the workspace calls under (a batch may add, never remove).
    compliance_profile: Profile = Profile.NONE


class Agent(BaseModel):
    """A voice agent; calls use its published version's prompt."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agent_id: str
    name: str
    prompt: str
    published_version: int | None = None

    def placeholders(self) -> list[str]:
        """The `{{variable}}` names the prompt uses, in order of first use."""
        return list(dict.fromkeys(_PLACEHOLDER.findall(self.prompt)))

    def render(self, variables: Mapping[str, object]) -> str:
        """The prompt with each `{{name}}` replaced by the recipient's value (empty when
        the recipient has none)."""
        return _PLACEHOLDER.sub(lambda m: str(variables.get(m.group(1), "")), self.prompt)


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """Keys are stored only as this hash: a leaked table does not leak keys."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_webhook_secret() -> str:
    return WEBHOOK_SECRET_PREFIX + secrets.token_hex(32)


def phone_number_id(workspace_id: str, e164: str) -> str:
    """A caller number's stable id (GET /phone-numbers; seed 004's callingNumbers): the
    same for the same number of the same workspace, and nothing about another's."""
    return hashlib.sha256(f"{workspace_id}\n{e164}".encode()).hexdigest()[:24]


def new_workspace_id() -> str:
    return "ws_" + secrets.token_hex(8)
