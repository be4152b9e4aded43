"""`batch-calls validate`: a contact file checked exactly as the API checks it
(api-contract.md, "Command line")."""

import argparse
import gc
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from batch_calls.domain.telephony_config import TelephonyConfig, parse_config
from batch_calls.ingest.phones import region_of
from batch_calls.ingest.table import MAX_FILE_BYTES
from batch_calls.ingest.validate import (
    OnInvalidRows,
    ValidationOptions,
    ValidationResult,
    iter_normalized,
    validate_file,
)
from cli.common import EXIT_OK, EXIT_REJECTED, UsageError


def register(commands: Any) -> None:
    validate = commands.add_parser(
        "validate",
        help="validate a contact file as the API would",
        description="Validate a contact file (CSV, XLSX, XLS or JSON) as POST /batch-calls "
        "would. Exits 0 when the batch would be accepted, 1 when not, 2 on usage errors.",
    )
    validate.add_argument("file", type=Path, metavar="FILE")
    validate.add_argument(
        "--from-number",
        required=True,
        metavar="E164",
        help="the caller number; its country is the default for national numbers",
    )
    validate.add_argument(
        "--config",
        type=Path,
        metavar="telephony.json",
        help="telephony config (route, enabled_countries, enabled_prefixes, blocked_prefixes, "
        "allow_premium_rate); default: only the caller number's country is enabled",
    )
    validate.add_argument("--on-invalid-rows", choices=("reject", "skip"), default="reject")
    validate.add_argument(
        "--no-dedupe",
        dest="dedupe",
        action="store_false",
        help="keep rows that repeat an earlier row's number (they are still reported)",
    )
    validate.add_argument(
        "--normalized",
        type=Path,
        metavar="OUT.jsonl",
        help="when accepted, write one JSON object per accepted row",
    )
    validate.add_argument("--json", action="store_true", help="print the API's JSON body")
    validate.set_defaults(run=_validate)


def _validate(args: argparse.Namespace) -> int:
    # Every object made from here on lives until the process exits, so the cyclic
    # collector could only walk them, again and again (a tenth of a second for a
    # 100,000-row file), to find nothing.
    gc.disable()
    region = region_of(args.from_number)
    if region is None:
        raise UsageError(
            f"--from-number {args.from_number!r} is not a valid phone number in E.164 form "
            "(for example +14155550100)"
        )
    config = (
        _load_config(args.config) if args.config else TelephonyConfig(enabled_countries=(region,))
    )
    on_invalid_rows: OnInvalidRows = args.on_invalid_rows
    options = ValidationOptions(region, config, on_invalid_rows, args.dedupe)
    result = validate_file(_read_upload(args.file), args.file.name, options)
    if args.normalized and result.is_accepted:
        _write_normalized(result, args.normalized)
    print_result(result, args.file.name, as_json=args.json, out=sys.stdout)
    gc.freeze()  # the collection Python runs at exit, too, would only walk them
    return EXIT_OK if result.is_accepted else EXIT_REJECTED


def _read_upload(path: Path) -> bytes:
    """The file's bytes; one byte past the limit is enough to reject it as too large."""
    try:
        with path.open("rb") as file:
            return file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from error


def _load_config(path: Path) -> TelephonyConfig:
    try:
        return parse_config(path.read_bytes())
    except OSError as error:
        raise UsageError(f"cannot read --config {path}: {error.strerror}") from error
    except ValueError as error:
        raise UsageError(f"--config {path} is not a valid telephony config: {error}") from None


# One encoder for every line: json.dumps with options builds a new one per call.
_encode_line = json.JSONEncoder(ensure_ascii=False).encode


def _write_normalized(result: ValidationResult, path: Path) -> None:
    try:
        with path.open("w", encoding="utf-8") as out:
            out.writelines(_encode_line(record) + "\n" for record in iter_normalized(result))
    except OSError as error:
        raise UsageError(f"cannot write --normalized {path}: {error.strerror}") from error


def print_result(result: ValidationResult, name: str, *, as_json: bool, out: TextIO) -> None:
    body = result.body()
    if as_json:
        json.dump(body, out, indent=2, ensure_ascii=False)
        out.write("\n")
        return
    verdict = "accepted" if result.is_accepted else "rejected"
    out.write(f"{name}: {verdict}: {body['message']}\n")
    if "countries" in body:
        countries = ", ".join(f"{region} {count}" for region, count in body["countries"].items())
        out.write(f"  destinations: {countries}\n")
    if body.get("variables"):
        out.write(f"  variables: {', '.join(body['variables'])}\n")
    for title, entries in (("error", body["errors"]), ("warning", body["warnings"])):
        for entry in entries:
            out.write(f"  {title} {entry['reason']}: {entry['message']}\n")
            if "rows" in entry:
                out.write(f"    rows: {_row_list(entry['rows'])}\n")


def _row_list(rows: list[Any], shown: int = 20) -> str:
    listed = ", ".join(str(row) for row in rows[:shown])
    return listed + (f" and {len(rows) - shown} more" if len(rows) > shown else "")
