"""The seeds' routes' answers in each seed's own words (api-contract.md, "Seed-compatible
routes"): Dialgen's statuses and links (seed 003), Nexus' envelope and field names (seed
004), and the workspace's numbers and identity."""

from typing import Any

from batch_calls.domain.batch import Batch, BatchStatus
from batch_calls.domain.times import utc_text
from batch_calls.domain.workspace import phone_number_id
from batch_calls.ingest.phones import region_of
from batch_calls.logic.batches import Created
from batch_calls.logic.seed_routes import Identity

# -- seed 003: Dialgen ----------------------------------------------------------------------

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


def dialgen_created(created: Created, api_url: str) -> dict[str, Any]:
    """POST /api/v1/batch."""
    return {**_dialgen_view(created.batch, api_url), "warnings": created.warnings}


def dialgen_batch(batch: Batch, api_url: str) -> dict[str, Any]:
    """GET /api/v1/batch/{id}/status."""
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


def nexus_contacts(added: Created) -> dict[str, Any]:
    return {
        "batchId": added.batch.batch_id,
        "totalContacts": added.batch.total,
        "warnings": added.warnings,
    }


def nexus_started(batch: Batch) -> dict[str, Any]:
    return {"batchId": batch.batch_id, "batchStatus": str(batch.status)}


def nexus_batch(batch: Batch) -> dict[str, Any]:
    settings = batch.settings
    window = settings.calling_window
    return {
        "_id": batch.batch_id,
        "batchName": settings.name,
        "status": str(batch.status),
        "callingNumbers": [
            phone_number_id(batch.workspace_id, n) for n in settings.from_phone_numbers
        ],
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


# -- the workspace ---------------------------------------------------------------------------


def phone_numbers(workspace_id: str, numbers: list[str]) -> dict[str, Any]:
    """GET /phone-numbers: the workspace's caller numbers with their stable ids."""
    return {
        "data": [
            {
                "id": phone_number_id(workspace_id, number),
                "number": number,
                "country": region_of(number),
            }
            for number in numbers
        ]
    }


def me(identity: Identity) -> dict[str, Any]:
    """GET /me: who the API key is (its workspace id is seed 003's and 004's userId)."""
    workspace = identity.workspace
    return {
        "id": workspace.workspace_id,
        "userId": workspace.workspace_id,
        "name": workspace.name,
        "limits": {
            "max_concurrent_calls": workspace.max_concurrent_calls,
            "max_calls_per_second": workspace.max_calls_per_second,
            "contact_limits": [limit.model_dump() for limit in workspace.contact_limits],
            "compliance_profile": str(workspace.compliance_profile),
        },
        "caller_numbers": identity.caller_numbers,
        "agents": identity.agents,
    }
