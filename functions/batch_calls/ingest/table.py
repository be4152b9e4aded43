"""What every file reader produces: a header and the non-blank rows, as text."""

from collections.abc import Iterator
from dataclasses import dataclass

from batch_calls.ingest.reasons import FileReason

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_CONTACT_ROWS = 100_000
MAX_COLUMNS = 1_000


@dataclass
class Table:
    """A contact list as read from a file, before any validation.

    `header` holds the header cells trimmed of spaces and a BOM, in file order (empty
    strings kept, so positions line up with row cells). `rows` yields, lazily and in file
    order, each non-blank row as (spreadsheet row number, cells as text); the header is
    at `header_row` (1 unless blank rows precede it).
    """

    header: list[str]
    header_row: int
    rows: Iterator[tuple[int, list[str]]]


class FileRejected(Exception):
    """The file as a whole cannot be used; `message` tells the user what to fix."""

    def __init__(self, reason: FileReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
