"""Workspaces: who may call, from which numbers, with which agents, to where."""

import hashlib
import re
import secrets
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from batch_calls.domain.batch import MAX_CALLS_PER_SECOND, CallingWindow
from batch_calls.domain.telephony_config import TelephonyConfig

API_KEY_PREFIX = "bck_"
DEFAULT_CONCURRENCY_LIMIT = 50
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")


class Workspace(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    workspace_id: str
    name: str
    telephony: TelephonyConfig = TelephonyConfig()
    max_concurrent_calls: int = Field(default=DEFAULT_CONCURRENCY_LIMIT, ge=1)
    created_at: datetime
    # Applied to a batch created without a calling_window of its own.
    calling_window: CallingWindow | None = None
    # Call starts per second across all the workspace's batches (the provider's limit).
    max_calls_per_second: int | None = Field(default=None, ge=1, le=MAX_CALLS_PER_SECOND)


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


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """Keys are stored only as this hash: a leaked table does not leak keys."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_workspace_id() -> str:
    return "ws_" + secrets.token_hex(8)
