"""Where a batch's reports live in the bucket: logic chooses which report it stores or
hands out, the blob store (store/blobs.py) keeps it under the key named here. Every key
of a workspace's objects names that workspace."""

UPLOADS = "uploads"
BATCHES = "batches"


def final_report_key(workspace_id: str, batch_id: str) -> str:
    """The report of a batch that ended, next to its upload."""
    return f"{UPLOADS}/{workspace_id}/{batch_id}/report.csv"


def snapshot_report_key(workspace_id: str, batch_id: str) -> str:
    """The latest report of a batch still running (overwritten by the next request)."""
    return f"{BATCHES}/{workspace_id}/{batch_id}/report-snapshot.csv"


def audit_key(workspace_id: str, batch_id: str) -> str:
    """The latest compliance audit of a batch (overwritten by the next request)."""
    return f"{BATCHES}/{workspace_id}/{batch_id}/audit.csv"
