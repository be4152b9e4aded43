"""Ingest benchmark: how fast `batch-calls validate` checks a 100,000-row file.

Prints, for a 100,000-row ~8 MB CSV of mixed formats (caller in India, IN/US/GB enabled):
- the plain per-row phonenumbers loop (read the CSV, parse + is_valid_number +
  number_type per row) in this process;
- the whole `batch-calls validate` process (start-up included), best of 3, and the
  ratio between the two, in wall time and in CPU time (fairer on a shared machine);
- that the verdicts are identical: the same validation with phonenumbers doing every
  number gives the same body and the same accepted rows;
- the same process on a 100,000-row XLSX and on a 10 MB, 60-column CSV, with peak memory;
- for comparison, the plain loop and the process on a list of US numbers only (seed
  001's kind of list, caller in the US), where phonenumbers is slowest.

Run: make bench   (or .venv/bin/python -m bench.ingest [--rows N])
"""

import argparse
import csv
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

import phonenumbers

from batch_calls.domain.telephony_config import TelephonyConfig
from batch_calls.ingest import phones, validate
from bench.contact_files import us_phone_cell, write_csv, write_wide_csv, write_xlsx

OUT = Path(__file__).parent / "out"
FROM_NUMBER = "+912234567890"
CONFIG = TelephonyConfig(enabled_countries=("IN", "US", "GB"))
US_FROM_NUMBER = "+14155550100"
US_CONFIG = TelephonyConfig(enabled_countries=("US", "CA"))
CLI = Path(sys.executable).parent / "batch-calls"


class Timing(NamedTuple):
    """Wall time and CPU time (user + system), in seconds. On a machine others share, the
    CPU time of the two sides is the fairer comparison; the target is set in wall time."""

    wall: float
    cpu: float


def best(timings: list[Timing]) -> Timing:
    return Timing(min(t.wall for t in timings), min(t.cpu for t in timings))


def plain_loop(path: Path, region: str = "IN") -> Timing:
    """The reference cost: phonenumbers on every row, nothing else of the product."""
    start, start_cpu = time.perf_counter(), time.process_time()
    with path.open(encoding="utf-8", newline="") as file:
        rows = csv.reader(file)
        next(rows)
        for row in rows:
            try:
                number = phonenumbers.parse(row[0], region)
            except phonenumbers.NumberParseException:
                continue
            phonenumbers.is_valid_number(number)
            phonenumbers.number_type(number)
    return Timing(time.perf_counter() - start, time.process_time() - start_cpu)


def run_cli(
    path: Path, config: Path, normalized: Path | None, from_number: str = FROM_NUMBER
) -> tuple[Timing, float, dict[str, Any]]:
    """Time, peak RSS (MB) and JSON body of one `batch-calls validate` process."""
    command = [
        str(CLI), "validate", str(path), "--from-number", from_number,
        "--config", str(config), "--on-invalid-rows", "skip", "--json",
    ]  # fmt: skip
    if normalized is not None:
        command += ["--normalized", str(normalized)]
    with tempfile.TemporaryFile() as output:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=output)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        timing = Timing(elapsed, usage.ru_utime + usage.ru_stime)
        return timing, usage.ru_maxrss / 1024, json.load(output)


def best_of(
    runs: int,
    path: Path,
    config: Path,
    normalized: Path | None = None,
    from_number: str = FROM_NUMBER,
) -> tuple[Timing, float, dict[str, Any]]:
    results = [run_cli(path, config, normalized, from_number) for _ in range(runs)]
    return best([r[0] for r in results]), max(r[1] for r in results), results[0][2]


def verdicts_identical(path: Path) -> bool:
    """The fast path's verdicts against phonenumbers' own, over the whole file."""
    options = validate.ValidationOptions(
        phones.region_of(FROM_NUMBER), CONFIG, on_invalid_rows="skip"
    )
    fast = validate.validate_file(path.read_bytes(), path.name, options)

    def no_fast_path(*_: object) -> phones.Phone | None:
        raise phones._Fallback  # every number then goes to phonenumbers itself

    def no_shapes(
        _: phones.ContactNumberReader, cells: list[str]
    ) -> tuple[list[str], list[str | None]]:
        return cells, [None] * len(cells)  # no column regex either: every cell is read

    fast_check, match_column = phones._fast_check, phones.ContactNumberReader.match_column
    phones._fast_check = no_fast_path
    phones.ContactNumberReader.match_column = no_shapes  # type: ignore[method-assign]
    try:
        reference = validate.validate_file(path.read_bytes(), path.name, options)
    finally:
        phones._fast_check = fast_check
        phones.ContactNumberReader.match_column = match_column  # type: ignore[method-assign]
    accepted = [(r.row, r.phone) for r in fast.accepted]
    return fast.body() == reference.body() and accepted == [
        (r.row, r.phone) for r in reference.accepted
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    OUT.mkdir(exist_ok=True)
    config = OUT / "telephony.json"
    config.write_text(json.dumps(dataclasses.asdict(CONFIG)))
    normalized = OUT / "normalized.jsonl"
    csv_file = write_csv(OUT / f"contacts_{args.rows}.csv", args.rows)
    xlsx_file = write_xlsx(OUT / f"contacts_{args.rows}.xlsx", args.rows)
    wide_file = write_wide_csv(OUT / "wide_10mb.csv")
    us_file = write_csv(OUT / f"us_contacts_{args.rows}.csv", args.rows, us_phone_cell)
    us_config = OUT / "telephony_us.json"
    us_config.write_text(json.dumps(dataclasses.asdict(US_CONFIG)))

    baseline = best([plain_loop(csv_file) for _ in range(args.runs)])
    cli_csv, rss_csv, body = best_of(args.runs, csv_file, config)
    with_output, _, _ = best_of(1, csv_file, config, normalized)
    cli_xlsx, rss_xlsx, _ = best_of(args.runs, xlsx_file, config)
    cli_wide, rss_wide, wide_body = best_of(1, wide_file, config)
    identical = verdicts_identical(csv_file)
    us_baseline = best([plain_loop(us_file, "US") for _ in range(args.runs)])
    cli_us, _, _ = best_of(args.runs, us_file, us_config, from_number=US_FROM_NUMBER)

    def times(timing: Timing) -> str:
        return f"{timing.wall:6.2f} s (CPU {timing.cpu:5.2f} s)"

    size = csv_file.stat().st_size / 1e6
    print(f"CSV  {args.rows:,} rows, {size:.1f} MB, caller +91, IN/US/GB enabled")
    print(f"  plain phonenumbers loop (parse, is_valid, number_type): {times(baseline)}")
    print(
        f"  batch-calls validate, whole process:                   {times(cli_csv)}"
        f"  {args.rows / cli_csv.wall:,.0f} rows/s  peak {rss_csv:.0f} MB"
    )
    print(
        f"  ratio plain loop / batch-calls validate:               "
        f"{baseline.wall / cli_csv.wall:6.1f}x   (CPU {baseline.cpu / cli_csv.cpu:4.1f}x)"
    )
    print(f"  the same with --normalized (writes 95k JSON lines):    {times(with_output)}")
    print(f"  verdicts identical to phonenumbers on every row:       {identical}")
    print(f"  accepted {body['accepted_rows']:,}, skipped {body['skipped_rows']:,}")
    print(
        f"XLSX {args.rows:,} rows, {xlsx_file.stat().st_size / 1e6:.1f} MB:"
        f"  {times(cli_xlsx)}  {args.rows / cli_xlsx.wall:,.0f} rows/s  peak {rss_xlsx:.0f} MB"
    )
    print(
        f"CSV  {wide_file.stat().st_size / 1e6:.1f} MB x 61 columns"
        f" ({wide_body['total_rows']:,} rows): {times(cli_wide)}  peak {rss_wide:.0f} MB"
    )
    print(
        f"CSV  {args.rows:,} rows of US numbers only (seed 001's kind), caller +1, US/CA enabled:"
        f"\n  plain loop {times(us_baseline)}, batch-calls validate {times(cli_us)},"
        f" ratio {us_baseline.wall / cli_us.wall:.1f}x"
    )
    if not identical:
        sys.exit("verdicts differ from phonenumbers")


if __name__ == "__main__":
    main()
