"""The seeds' own routes (api-contract.md, "Seed-compatible routes"): seed 003's
(Dialgen) and seed 004's (Nexus) requests onto ordinary batches, answered in each seed's
shape; and the workspace's numbers and identity (GET /phone-numbers, GET /me).

The batches are the same as POST /batch-calls makes (GET /batch-calls/{id} shows them);
only the words differ: Dialgen's statuses, Nexus' field names."""

from typing import Any

from batch_calls.domain.batch import Batch, BatchStatus
from batch_calls.domain.times import utc_text
from batch_calls.domain.workspace import phone_number_id
from batch_calls.ingest.phones import region_of
from batch_calls.logic import batches
from batch_calls.logic.batches import Contacts, Services
from batch_calls.logic.errors import Forbidden, InvalidField, NotFound
from batch_calls.logic.json_batches import (
    NexusRequest,
    contacts_request,
    dialgen_request,
    nexus_request,
)

# -- seed 003: Dialgen ----------------------------------------------------------------------

DIALGEN_STATUSES = ("ingesting", "scheduled", "pending", "processing", "completed")
_DIALGEN_MESSAGE = {
    "ingesting": "Batch accepted and is being processed. Monitor the status link for updates.",
    "scheduled": "Batch accepted and scheduled. Monitor the status link for updates.",
    "pending": "Batch accepted; it waits to be started or resumed.",
    "processing": "Batch is calling its contacts.",
    "completed": "Batch has ended.",
}


def dialgen_status(batch: Batch) -> str:
    """Our status in seed 003's words: the contacts are still being loaded (ingesting),
    it waits for its time (scheduled), it is not calling (pending: a draft, a paused
    batch), it calls (processing), or it is over (completed, also when cancelled)."""
    if batch.status in {BatchStatus.COMPLETED, BatchStatus.CANCELLED}:
        return "completed"
    if batch.status is BatchStatus.SCHEDULED:
        return "scheduled"
    if batch.status is BatchStatus.RUNNING:
        return "processing"
    if batch.status is BatchStatus.INITIATED:
        return "ingesting" if batch.loaded_parts < batch.parts else "processing"
    return "pending"


def dialgen_create(
    services: Services, workspace_id: str, body: Any, api_url: str
) -> dict[str, Any]:
    """POST /api/v1/batch."""
    created = batches.create_batch(services, workspace_id, dialgen_request(body))
    return {**_dialgen_view(created.batch, api_url), "warnings": created.warnings}


def dialgen_batch(
    services: Services, workspace_id: str, batch_id: str, api_url: str
) -> dict[str, Any]:
    """GET /api/v1/batch/{id}/status."""
    batch = batches.find_batch(services, workspace_id, batch_id)
    return {
        **_dialgen_view(batch, api_url),
        "batchStatus": str(batch.status),
        "counts": {"total": batch.total, **batch.counts},
        "tags": list(batch.settings.tags),
        "priority": batch.settings.priority,
        "createdAt": utc_text(batch.created_at),
        "startedAt": utc_text(batch.started_at),
        "finishedAt": utc_text(batch.finished_at),
    }


def _dialgen_view(batch: Batch, api_url: str) -> dict[str, Any]:
    status = dialgen_status(batch)
    return {
        "success": True,
        "batchId": batch.batch_id,
        "status": status,
        "message": _DIALGEN_MESSAGE[status],
        "links": {
            "status": f"{api_url}/api/v1/batch/{batch.batch_id}/status",
            # The batch in the API until a console serves it.
            "dashboard": f"{api_url}/batch-calls/{batch.batch_id}",
        },
    }


# -- seed 004: Nexus ------------------------------------------------------------------------


def nexus_envelope(message: str, code: int, data: Any) -> dict[str, Any]:
    """Seed 004's answer: {message, status, code, errorMessage, data}."""
    return {"message": message, "status": True, "code": code, "errorMessage": "", "data": data}


def nexus_create(services: Services, workspace_id: str, body: Any) -> str:
    """POST /api/call/createBatch: a draft batch; its id."""
    request = nexus_request(body, creating=True)
    _resolve_numbers(services, workspace_id, request)
    return batches.create_batch(services, workspace_id, request.create).batch.batch_id


def _resolve_numbers(services: Services, workspace_id: str, request: NexusRequest) -> None:
    if request.phone_ids:
        request.create.settings.fields["from_phone_numbers"] = batches.resolve_phone_ids(
            services, workspace_id, request.phone_ids
        )


def nexus_add_contacts(services: Services, workspace_id: str, body: Any) -> dict[str, Any]:
    """POST /api/call/addContacts {batchId, contacts: [...]}."""
    batch_id = _batch_id(body)
    contacts: Contacts = contacts_request({"contacts": body.get("contacts")})
    added = batches.add_contacts(services, workspace_id, batch_id, contacts)
    return {"batchId": batch_id, "totalContacts": added.batch.total, "warnings": added.warnings}


def nexus_start(services: Services, workspace_id: str, body: Any) -> dict[str, Any]:
    """POST /api/call/startBatch {batchId}."""
    batch_id = _batch_id(body)
    started = batches.control_batch(services, workspace_id, batch_id, "start")
    return {"batchId": batch_id, "batchStatus": str(started.status)}


def nexus_update(services: Services, workspace_id: str, body: Any) -> dict[str, Any]:
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
    updated = batches.update_batch(services, workspace_id, batch_id, request.create.settings)
    return nexus_batch(services, workspace_id, updated)


def nexus_batches(services: Services, workspace_id: str, user_id: str) -> list[dict[str, Any]]:
    """GET /api/call/batches/{userId}: the user's (the workspace's) batches, newest first."""
    if user_id != workspace_id:
        raise Forbidden("this API key does not belong to that user: see GET /me for your userId")
    found, _ = services.database.list_batches(workspace_id, None, offset=0, limit=10**9)
    return [nexus_batch(services, workspace_id, batch) for batch in found]


def nexus_batch(services: Services, workspace_id: str, batch: Batch) -> dict[str, Any]:
    settings = batch.settings
    window = settings.calling_window
    return {
        "_id": batch.batch_id,
        "batchName": settings.name,
        "status": str(batch.status),
        "callingNumbers": [phone_number_id(workspace_id, n) for n in settings.from_phone_numbers],
        "retry": settings.retry_config.max_retries,
        "delay": round(settings.retry_config.retry_interval_minutes * 60),
        "timezone": settings.timezone or (window.timezone if window else "UTC"),
        "callingHour": None if window is None else {"start": window.start, "end": window.end},
        "allowedDays": None if window is None else list(window.days),
        "totalContacts": batch.total,
        "counts": batch.counts,
        "createdAt": utc_text(batch.created_at),
        "updatedAt": utc_text(batch.updated_at),
    }


def _batch_id(body: Any) -> str:
    batch_id = body.get("batchId") if isinstance(body, dict) else None
    if not isinstance(batch_id, str) or not batch_id:
        raise InvalidField("batchId", "is required: the id createBatch answered with")
    return batch_id


# -- the workspace ---------------------------------------------------------------------------


def phone_numbers(services: Services, workspace_id: str) -> dict[str, Any]:
    """GET /phone-numbers: the workspace's caller numbers with their stable ids."""
    return {
        "data": [
            {
                "id": phone_number_id(workspace_id, number),
                "number": number,
                "country": region_of(number),
            }
            for number in sorted(services.database.caller_numbers(workspace_id))
        ]
    }


def me(services: Services, workspace_id: str) -> dict[str, Any]:
    """GET /me: who the API key is (its workspace id is seed 003's and 004's userId)."""
    workspace = services.database.get_workspace(workspace_id)
    if workspace is None:
        raise NotFound("this API key's workspace no longer exists")
    return {
        "id": workspace_id,
        "userId": workspace_id,
        "name": workspace.name,
        "limits": {
            "max_concurrent_calls": workspace.max_concurrent_calls,
            "max_calls_per_second": workspace.max_calls_per_second,
            "contact_limits": [limit.model_dump() for limit in workspace.contact_limits],
            "compliance_profile": str(workspace.compliance_profile),
        },
        "caller_numbers": len(services.database.caller_numbers(workspace_id)),
        "agents": services.database.agent_ids(workspace_id),
    }
