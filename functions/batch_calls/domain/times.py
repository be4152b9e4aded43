"""How the product writes a moment as text: in the API's JSON, the report, the events."""

from datetime import UTC, datetime


def utc_text(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with milliseconds, as seed 000 writes it: 2024-03-01T10:00:00.000Z."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
