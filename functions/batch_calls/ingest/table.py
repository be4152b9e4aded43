"""What every file reader produces: a header and the non-blank rows, as text."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from batch_calls.ingest.reasons import FileReason

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_CONTACT_ROWS = 100_000
MAX_COLUMNS = 1_000


@dataclass
class Table:
    """A contact list as read from a file, before any validation.

    `header` holds the header cells trimmed of spaces and a BOM, in file order (empty
    strings kept, so positions line up with row cells). `rows` yields, in file order, each
    non-blank row as (spreadsheet row number, cells as text), at least as many cells as
    the header has; the header is at `header_row` (1 unless blank rows precede it).
    `widest_row` is the most characters any row's cells hold together, when the reader
    knows it without another pass over the rows (a CSV), else None.
    """

    header: list[str]
    header_row: int
    rows: Iterator[tuple[int, list[str]]]
    widest_row: int | None = None


class FileRejected(Exception):
    """The file as a whole cannot be used; `message` tells the user what to fix."""

    def __init__(self, reason: FileReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """For reading and validating a file: they make a few objects per row that live until
    the end, none of them in a cycle. With the cyclic collector on, Python walks them all
    again each time their number grows by a quarter: a fifth of the time of a 100,000-row
    file, for no garbage."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
