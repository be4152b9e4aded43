"""Workspace administration: what `batch-calls admin` does, locally or on a deployed stack."""

from dataclasses import dataclass
from datetime import UTC, datetime

from batch_calls.domain import compliance
from batch_calls.domain.batch import MAX_CALLS_PER_SECOND, CallingWindow, Profile
from batch_calls.domain.compliance import MAX_CONTACT_LIMITS, ContactLimit
from batch_calls.domain.telephony_config import TelephonyConfig
from batch_calls.domain.workspace import (
    DEFAULT_CONCURRENCY_LIMIT,
    TELEPHONY_PROVIDERS,
    Agent,
    Workspace,
    hash_api_key,
    new_api_key,
    new_webhook_secret,
    new_workspace_id,
)
from batch_calls.ingest.phones import region_of
from batch_calls.logic.errors import Conflict, InvalidField, NotFound
from batch_calls.logic.ports import Workspaces

# `configure(telephony_provider=...)`: use the deployment's default provider again.
DEFAULT_PROVIDER_CHOICE = "default"


@dataclass(frozen=True)
class NewWorkspace:
    workspace: Workspace
    api_key: str  # shown once; only its hash is stored


def create_workspace(
    database: Workspaces,
    name: str,
    telephony: TelephonyConfig | None = None,
    max_concurrent_calls: int = DEFAULT_CONCURRENCY_LIMIT,
) -> NewWorkspace:
    workspace = Workspace(
        workspace_id=new_workspace_id(),
        name=name,
        telephony=telephony or TelephonyConfig(),
        max_concurrent_calls=max_concurrent_calls,
        created_at=datetime.now(UTC),
        webhook_secret=new_webhook_secret(),
    )
    database.put_workspace(workspace)
    return NewWorkspace(workspace, create_api_key(database, workspace.workspace_id))


def create_api_key(database: Workspaces, workspace_id: str) -> str:
    _existing(database, workspace_id)
    key = new_api_key()
    database.put_api_key(workspace_id, hash_api_key(key), datetime.now(UTC))
    return key


def rotate_webhook_secret(database: Workspaces, workspace_id: str) -> str:
    """A new webhook signing secret; deliveries from now on are signed with it."""
    workspace = _existing(database, workspace_id)
    secret = new_webhook_secret()
    database.put_workspace(workspace.model_copy(update={"webhook_secret": secret}))
    return secret


def add_caller_number(
    database: Workspaces, workspace_id: str, e164: str, *, shared: bool = False
) -> None:
    """A caller number belongs to one workspace: adding it to another is refused unless
    the operator says it is `shared` (calls from it would show one caller to people
    called by both)."""
    _existing(database, workspace_id)
    if region_of(e164) is None or not e164.startswith("+"):
        raise InvalidField("number", f"{e164!r} is not a valid phone number in E.164 form")
    owners = database.caller_number_workspaces(e164)
    if workspace_id in owners:
        return
    if owners and not shared:
        raise Conflict(
            f"{e164} already belongs to workspace {', '.join(sorted(owners))}; add it with "
            "--shared to let both workspaces call from it"
        )
    database.put_caller_number(workspace_id, e164)


def put_agent(
    database: Workspaces, workspace_id: str, agent_id: str, prompt: str, *, publish: bool = True
) -> Agent:
    _existing(database, workspace_id)
    previous = database.get_agent(workspace_id, agent_id)
    version = (previous.published_version or 0) + 1 if previous else 1
    agent = Agent(
        agent_id=agent_id,
        name=agent_id,
        prompt=prompt,
        published_version=version
        if publish
        else (previous.published_version if previous else None),
    )
    database.put_agent(workspace_id, agent)
    return agent


# The workspace `batch-calls smoke` runs in: calls go to the simulated provider only
# (its dry-run mode), from a number and with an agent the smoke test knows.
SMOKE_AGENT = "agt_smoke"
SMOKE_NUMBER = "+12025550100"
SMOKE_PROMPT = "This is a smoke test call for {{customer_name}}; nobody is really called."


def create_smoke_workspace(database: Workspaces, name: str = "smoke") -> NewWorkspace:
    """A workspace whose calls are simulated whatever the deployment's default provider,
    so that `batch-calls smoke` can run against any deployment without calling anyone."""
    created = create_workspace(
        database, name, TelephonyConfig(enabled_countries=("US",)), max_concurrent_calls=2
    )
    workspace_id = created.workspace.workspace_id
    # Every smoke workspace calls from the same made-up number, nobody's own.
    add_caller_number(database, workspace_id, SMOKE_NUMBER, shared=True)
    put_agent(database, workspace_id, SMOKE_AGENT, SMOKE_PROMPT)
    workspace = configure(database, workspace_id, telephony_provider="simulated")
    return NewWorkspace(workspace, created.api_key)


def configure(
    database: Workspaces,
    workspace_id: str,
    telephony: TelephonyConfig | None = None,
    max_concurrent_calls: int | None = None,
    *,
    telephony_provider: str | None = None,
    calling_window: CallingWindow | None = None,
    max_calls_per_second: int | None = None,
    contact_limits: tuple[ContactLimit, ...] | None = None,
    compliance_profile: Profile | None = None,
) -> Workspace:
    """Change what is given (None: unchanged). `telephony_provider` "default" goes back
    to the deployment's default provider."""
    workspace = _existing(database, workspace_id)
    changes: dict[str, object] = {}
    if contact_limits is not None:
        if len(contact_limits) > MAX_CONTACT_LIMITS:
            raise InvalidField("contact_limits", f"at most {MAX_CONTACT_LIMITS} limits")
        changes["contact_limits"] = contact_limits
    if compliance_profile is not None:
        changes["compliance_profile"] = compliance_profile
    profile = compliance_profile or workspace.compliance_profile
    widening = compliance.widening(profile, calling_window or workspace.calling_window)
    if widening is not None:
        raise InvalidField("calling_window", f"would widen {profile}'s hours: {widening}")
    if telephony_provider is not None:
        if telephony_provider not in (*TELEPHONY_PROVIDERS, DEFAULT_PROVIDER_CHOICE):
            raise InvalidField(
                "telephony_provider",
                f"{telephony_provider!r} is not one of "
                f"{', '.join((*TELEPHONY_PROVIDERS, DEFAULT_PROVIDER_CHOICE))}",
            )
        changes["telephony_provider"] = (
            None if telephony_provider == DEFAULT_PROVIDER_CHOICE else telephony_provider
        )
    if calling_window is not None:
        changes["calling_window"] = calling_window
    if max_calls_per_second is not None:
        if not 1 <= max_calls_per_second <= MAX_CALLS_PER_SECOND:
            raise InvalidField(
                "max_calls_per_second", f"must be between 1 and {MAX_CALLS_PER_SECOND}"
            )
        changes["max_calls_per_second"] = max_calls_per_second
    if telephony is not None:
        changes["telephony"] = telephony
    if max_concurrent_calls is not None:
        if max_concurrent_calls < 1:
            raise InvalidField("max_concurrent_calls", "must be 1 or more")
        changes["max_concurrent_calls"] = max_concurrent_calls
    updated = workspace.model_copy(update=changes)
    database.put_workspace(updated)
    return updated


def _existing(database: Workspaces, workspace_id: str) -> Workspace:
    workspace = database.get_workspace(workspace_id)
    if workspace is None:
        raise NotFound(f"there is no workspace {workspace_id}")
    return workspace
