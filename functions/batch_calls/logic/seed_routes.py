"""The seeds' own routes (api-contract.md, "Seed-compatible routes"): seed 003's
(Dialgen) and seed 004's (Nexus) requests onto ordinary batches; and the workspace's
numbers and identity (GET /phone-numbers, GET /me).

The batches are the same as POST /batch-calls makes (GET /batch-calls/{id} shows them);
only the words differ, which handlers/seed_views.py writes: Dialgen's statuses, Nexus'
field names."""

from dataclasses import dataclass
from typing import Any

from batch_calls.domain.batch import Batch
from batch_calls.domain.workspace import Workspace
from batch_calls.logic import batches
from batch_calls.logic.batches import Contacts, Created
from batch_calls.logic.errors import Forbidden, InvalidField, NotFound
from batch_calls.logic.json_batches import (
    NexusRequest,
    contacts_request,
    dialgen_request,
    nexus_request,
)
from batch_calls.logic.services import Services

# -- seed 003: Dialgen ----------------------------------------------------------------------


def dialgen_create(services: Services, workspace_id: str, body: Any) -> Created:
    """POST /api/v1/batch."""
    return batches.create_batch(services, workspace_id, dialgen_request(body))


# -- seed 004: Nexus ------------------------------------------------------------------------


def nexus_create(services: Services, workspace_id: str, body: Any) -> Created:
    """POST /api/call/createBatch: a draft batch."""
    request = nexus_request(body, creating=True)
    _resolve_numbers(services, workspace_id, request)
    return batches.create_batch(services, workspace_id, request.create)


def _resolve_numbers(services: Services, workspace_id: str, request: NexusRequest) -> None:
    if request.phone_ids:
        request.create.settings.fields["from_phone_numbers"] = batches.resolve_phone_ids(
            services, workspace_id, request.phone_ids
        )


def nexus_add_contacts(services: Services, workspace_id: str, body: Any) -> Created:
    """POST /api/call/addContacts {batchId, contacts: [...]}."""
    batch_id = _batch_id(body)
    contacts: Contacts = contacts_request({"contacts": body.get("contacts")})
    return batches.add_contacts(services, workspace_id, batch_id, contacts)


def nexus_start(services: Services, workspace_id: str, body: Any) -> Batch:
    """POST /api/call/startBatch {batchId}."""
    return batches.control_batch(services, workspace_id, _batch_id(body), "start")


def nexus_update(services: Services, workspace_id: str, body: Any) -> Batch:
    """POST /api/call/updateBatch {batchId, ...the create's fields}."""
    batch_id = _batch_id(body)
    request = nexus_request({k: v for k, v in body.items() if k != "batchId"}, creating=False)
    _resolve_numbers(services, workspace_id, request)
    # retry and delay, callingHour and allowedDays are fields of their own: each changes
    # only its part of the retry rules or the window.
    current = batches.find_batch(services, workspace_id, batch_id).settings
    fields = request.create.settings.fields
    for name, now in (
        ("retry_config", current.retry_config),
        ("calling_window", current.calling_window),
    ):
        if name in fields and now is not None:
            fields[name] = {**now.model_dump(), **fields[name]}
    return batches.update_batch(services, workspace_id, batch_id, request.create.settings)


def nexus_batches(services: Services, workspace_id: str, user_id: str) -> list[Batch]:
    """GET /api/call/batches/{userId}: the user's (the workspace's) batches, newest first."""
    if user_id != workspace_id:
        raise Forbidden("this API key does not belong to that user: see GET /me for your userId")
    found, _ = services.database.list_batches(workspace_id, None, offset=0, limit=10**9)
    return found


def _batch_id(body: Any) -> str:
    batch_id = body.get("batchId") if isinstance(body, dict) else None
    if not isinstance(batch_id, str) or not batch_id:
        raise InvalidField("batchId", "is required: the id createBatch answered with")
    return batch_id


# -- the workspace ---------------------------------------------------------------------------


def caller_numbers(services: Services, workspace_id: str) -> list[str]:
    """GET /phone-numbers: the workspace's caller numbers, in order."""
    return sorted(services.database.caller_numbers(workspace_id))


@dataclass(frozen=True)
class Identity:
    """Who an API key is: its workspace (whose id is seed 003's and 004's userId)."""

    workspace: Workspace
    caller_numbers: int
    agents: list[str]


def me(services: Services, workspace_id: str) -> Identity:
    """GET /me."""
    workspace = services.database.get_workspace(workspace_id)
    if workspace is None:
        raise NotFound("this API key's workspace no longer exists")
    return Identity(
        workspace,
        len(services.database.caller_numbers(workspace_id)),
        services.database.agent_ids(workspace_id),
    )
