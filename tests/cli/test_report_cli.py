"""`batch-calls report` without an API to ask is a usage error (exit 2)."""

from pathlib import Path

import pytest

from cli.main import main


def test_no_api_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .local/env here
    monkeypatch.delenv("API_URL", raising=False)
    monkeypatch.delenv("API_KEY", raising=False)
    assert main(["report", "batch_x", "-o", "out.csv"]) == 2
    assert "--api-url" in capsys.readouterr().err
    assert not (tmp_path / "out.csv").exists()
