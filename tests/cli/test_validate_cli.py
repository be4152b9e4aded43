"""`batch-calls validate`: the contract's command line (exit codes 0 / 1 / 2)."""

import json
from pathlib import Path

import pytest

from cli.main import main

OFFICE = Path(__file__).parents[1] / "fixtures" / "office"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["validate", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("name", ["leads.xlsx", "leads.xls", "leads_semicolon.csv"])
def test_office_files_are_accepted_with_the_api_body(
    capsys: pytest.CaptureFixture[str], name: str
) -> None:
    code, out, _ = run(capsys, str(OFFICE / name), "--from-number", "+14155550100", "--json")
    assert code == 0
    body = json.loads(out)
    assert (body["total_rows"], body["accepted_rows"]) == (3, 3)
    assert body["variables"] == ["customer_name", "appointment", "balance", "account_id", "total"]


def test_normalized_writes_one_object_per_accepted_row(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    contacts = tmp_path / "c.csv"
    contacts.write_text("phone_number,name\n9876543210,Priya\n9123456789,Rahul\n")
    out_file = tmp_path / "out.jsonl"
    code, _, _ = run(
        capsys, str(contacts), "--from-number", "+912234567890", "--normalized", str(out_file)
    )
    assert code == 0
    lines = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert lines == [
        {"row": 2, "phone_number": "+919876543210", "variables": {"name": "Priya"}},
        {"row": 3, "phone_number": "+919123456789", "variables": {"name": "Rahul"}},
    ]


def test_a_rejected_file_exits_1_with_the_400_body(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    contacts = tmp_path / "c.csv"
    contacts.write_text("phone_number,name\n12345,Bad\n+44 20 7946 0958,Uk\n")
    code, out, _ = run(capsys, str(contacts), "--from-number", "+912234567890", "--json")
    assert code == 1
    body = json.loads(out)
    assert body["error"] == "validation_failed"
    assert {e["reason"] for e in body["errors"]} == {"invalid_phone_number", "unsupported_country"}
    code, out, _ = run(capsys, str(contacts), "--from-number", "+912234567890")
    assert code == 1
    assert "rows: 2" in out and "invalid_phone_number" in out


def test_a_config_enables_countries_and_skip_mode_accepts_the_rest(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    contacts = tmp_path / "c.csv"
    contacts.write_text("phone_number\n12345\n+44 20 7946 0958\n9876543210\n")
    config = tmp_path / "telephony.json"
    config.write_text('{"enabled_countries": ["IN", "GB"]}')
    code, out, _ = run(
        capsys, str(contacts), "--from-number", "+912234567890", "--config", str(config),
        "--on-invalid-rows", "skip", "--json",
    )  # fmt: skip
    assert code == 0
    body = json.loads(out)
    assert (body["accepted_rows"], body["skipped_rows"]) == (2, 1)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["missing.csv", "--from-number", "+14155550100"], "cannot read"),
        (["{contacts}", "--from-number", "12"], "--from-number"),
        (["{contacts}", "--from-number", "+14155550100", "--config", "{bad_config}"], "--config"),
    ],
)
def test_usage_errors_exit_2_and_say_what_is_wrong(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], says: str
) -> None:
    (tmp_path / "c.csv").write_text("phone_number\n4155550123\n")
    (tmp_path / "bad.json").write_text('{"route": "carrier pigeon"}')
    filled = [a.format(contacts=tmp_path / "c.csv", bad_config=tmp_path / "bad.json") for a in argv]
    code, _, err = run(capsys, *filled)
    assert code == 2
    assert says in err
