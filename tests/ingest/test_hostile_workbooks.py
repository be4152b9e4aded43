"""Every hostile workbook of the corpora (XLSX and XLS) is decided in bounded CPU time and
memory.

The bounds: the guard's decision in this process's own CPU time (not wall time: the
machine may be shared), and how far the resident memory grows while the file is read as
an upload is (calamine opening what the guard let through included; Linux: the peak is
reset through /proc/self/clear_refs, then read as VmHWM).
"""

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from batch_calls.ingest.readers import read_table
from batch_calls.ingest.reasons import FileReason
from batch_calls.ingest.table import FileRejected
from batch_calls.ingest.xls_guard import guard_xls
from batch_calls.ingest.xlsx_guard import guard_xlsx
from tests.ingest.hostile_workbooks import CORPUS, Hostile
from tests.ingest.hostile_xls import XLS_CORPUS

CPU_SECONDS = 3.0  # the target is about 1 s; generous for a slow or busy machine
GROWTH_MB = 256
STATUS = Path("/proc/self/status")


def memory_mb(field: str) -> int:
    line = next(line for line in STATUS.read_text().splitlines() if line.startswith(field))
    return int(line.split()[1]) // 1024


def decide(read: Callable[[bytes], object], data: bytes) -> FileReason | None:
    try:
        read(data)
    except FileRejected as error:
        assert error.message
        return error.reason
    return None


GUARDED = [(hostile, guard_xlsx) for hostile in CORPUS] + [
    (hostile, guard_xls) for hostile in XLS_CORPUS
]


@pytest.mark.parametrize(
    ("hostile", "guard"), GUARDED, ids=[hostile.name for hostile, _ in GUARDED]
)
def test_hostile_workbook_is_decided_within_bounds(
    hostile: Hostile, guard: Callable[[bytes], bytes]
) -> None:
    data = hostile.build()
    start = time.process_time()
    decision = decide(guard, data)
    cpu = time.process_time() - start
    before = memory_mb("VmRSS:")
    Path("/proc/self/clear_refs").write_text("5")  # the peak starts again from here
    assert decide(read_table, data) == decision == hostile.reason
    growth = memory_mb("VmHWM:") - before
    assert cpu < CPU_SECONDS, f"{hostile.name}: {cpu:.2f} s of CPU"
    assert growth < GROWTH_MB, f"{hostile.name}: {growth} MB more at peak"
