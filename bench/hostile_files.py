"""The workbook guards on the corpora of hostile files (tests/ingest/hostile_workbooks.py
for XLSX, tests/ingest/hostile_xls.py for XLS): the guards of an older revision ("old",
its ingest package taken from git) beside the working tree's ("new"). Per file: its
size, and for each version the guard's decision, its CPU seconds, the peak memory Python
allocated in it (tracemalloc, in a second run: tracing slows the first) and how far the
process's resident memory grew while the file was read as an upload is (calamine
included). Each file is measured in a child process of its own, with a time limit and an
address-space limit, since an old guard may let calamine loop or allocate gigabytes.

Run: .venv/bin/python -m bench.hostile_files [--old REV] [--new-only] [NAME ...]
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).parent.parent
OLD_REVISION = "675933e"  # main before issue #16's one-pass XLSX guard
TIME_LIMIT_S = 120
ADDRESS_SPACE = 4 << 30
STATUS = Path("/proc/self/status")


def measure(corpus: str, name: str) -> str:
    """In the child: one file's decision, CPU seconds, traced peak MB and read growth MB."""
    from batch_calls.ingest.readers import read_table  # noqa: PLC0415
    from batch_calls.ingest.table import FileRejected  # noqa: PLC0415

    if corpus == "xlsx":
        from batch_calls.ingest.xlsx_guard import guard_xlsx as guard  # noqa: PLC0415
        from tests.ingest.hostile_workbooks import CORPUS  # noqa: PLC0415
    else:
        from batch_calls.ingest.xls_guard import guard_xls as guard  # noqa: PLC0415
        from tests.ingest.hostile_xls import XLS_CORPUS as CORPUS  # noqa: PLC0415
    data = next(hostile for hostile in CORPUS if hostile.name == name).build()

    def decide(read: Callable[[bytes], object]) -> str:
        try:
            read(data)
        except FileRejected as error:
            return str(error.reason)
        return "accepted"

    start = time.process_time()
    decision = decide(guard)
    cpu = time.process_time() - start
    tracemalloc.start()
    decide(guard)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    before = memory_mb("VmRSS:")
    STATUS.with_name("clear_refs").write_text("5")
    decide(lambda data: list(read_table(data).rows))
    growth = memory_mb("VmHWM:") - before
    return f"{decision:<18}{cpu:>7.2f}{peak:>8.1f}{growth:>8}"


def memory_mb(field: str) -> int:
    line = next(line for line in STATUS.read_text().splitlines() if line.startswith(field))
    return int(line.split()[1]) // 1024


def limit_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def in_child(functions: Path, corpus: str, name: str) -> str:
    env = {**os.environ, "PYTHONPATH": f"{functions}{os.pathsep}{ROOT}"}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench.hostile_files", "--measure", corpus, name],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIME_LIMIT_S,
            preexec_fn=limit_address_space,  # the child runs no threads
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"{'no decision':<18}{f'>{TIME_LIMIT_S} s wall':>23}"
    if done.returncode:
        reason = "out of memory" if "MemoryError" in done.stderr else f"exit {done.returncode}"
        return f"{'crashed':<18}{reason:>23}"
    return done.stdout.strip()


def old_functions(revision: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "archive", revision, "functions/batch_calls"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "functions"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--old", default=OLD_REVISION, help="revision to compare with")
    parser.add_argument("--new-only", action="store_true")
    parser.add_argument("--measure", nargs=2, metavar=("CORPUS", "NAME"), help=argparse.SUPPRESS)
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    if args.measure:
        print(measure(*args.measure))
        return
    from tests.ingest.hostile_workbooks import CORPUS  # noqa: PLC0415
    from tests.ingest.hostile_xls import XLS_CORPUS  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as scratch:
        versions = {"new": ROOT / "functions"}
        if not args.new_only:
            versions = {f"old ({args.old})": old_functions(args.old, Path(scratch)), **versions}
        columns = f"{'decision':<18}{'CPU s':>7}{'peak MB':>8}{'read MB':>8}"
        print(f"{'':<44}" + "".join(f"  {version:<41}" for version in versions))
        print(f"{'file':<38}{'KB':>6}" + f"  {columns}" * len(versions))
        corpora = [("xlsx", hostile) for hostile in CORPUS]
        corpora += [("xls", hostile) for hostile in XLS_CORPUS]
        for corpus, hostile in corpora:
            if args.names and hostile.name not in args.names:
                continue
            line = f"{hostile.name:<38}{len(hostile.build()) // 1024:>6}"
            for functions in versions.values():
                line += "  " + in_child(functions, corpus, hostile.name)
            print(line, flush=True)


if __name__ == "__main__":
    main()
