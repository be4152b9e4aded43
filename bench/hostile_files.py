"""The XLSX guard on the corpus of hostile workbooks (tests/ingest/hostile_workbooks.py),
the guard on main before issue #16 ("old", loaded from git) beside this one ("new"): per
file, its size, each one's decision, CPU time and peak memory Python allocated
(tracemalloc, in a second run: tracing slows the first).

Run: .venv/bin/python -m bench.hostile_files [--new-only] [NAME ...]
"""

import argparse
import subprocess
import sys
import time
import tracemalloc
import types
from collections.abc import Callable
from pathlib import Path

from batch_calls.ingest import xlsx_guard
from batch_calls.ingest.table import FileRejected
from tests.ingest.hostile_workbooks import CORPUS

OLD_COMMIT = "675933e"  # main when the one-pass guard was written
GUARD_PATH = "functions/batch_calls/ingest/xlsx_guard.py"

Guard = Callable[[bytes], bytes]


def old_guard() -> Guard:
    source = subprocess.run(
        ["git", "show", f"{OLD_COMMIT}:{GUARD_PATH}"],
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = types.ModuleType("old_xlsx_guard")
    module.__dict__["__name__"] = "old_xlsx_guard"
    sys.modules["old_xlsx_guard"] = module
    exec(compile(source, "old_xlsx_guard.py", "exec"), module.__dict__)
    guard: Guard = module.guard_xlsx
    return guard


def measure(guard: Guard, data: bytes) -> tuple[str, float, float]:
    """The decision, its CPU seconds and its peak traced MB."""

    def decide() -> str:
        try:
            guard(data)
        except FileRejected as error:
            return str(error.reason)
        return "accepted"

    start = time.process_time()
    decision = decide()
    cpu = time.process_time() - start
    tracemalloc.start()
    decide()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return decision, cpu, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--new-only", action="store_true")
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    guards = {"new": xlsx_guard.guard_xlsx}
    if not args.new_only:
        guards = {"old": old_guard(), **guards}
    heading = "".join(f"  {name + ' decision':<22}{'CPU s':>7}{'peak MB':>9}" for name in guards)
    print(f"{'file':<38}{'KB':>6}{heading}")
    for hostile in CORPUS:
        if args.names and hostile.name not in args.names:
            continue
        data = hostile.build()
        line = f"{hostile.name:<38}{len(data) // 1024:>6}"
        for guard in guards.values():
            decision, cpu, peak = measure(guard, data)
            line += f"  {decision:<22}{cpu:>7.2f}{peak:>9.1f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
