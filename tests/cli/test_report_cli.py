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


def test_a_stale_local_runtime_does_not_stand_in_front_of_the_api_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".local").mkdir()
    (tmp_path / ".local" / "env").write_text("API_URL=http://127.0.0.1:9\nAPI_KEY=k\n")
    monkeypatch.delenv("API_URL", raising=False)
    # An address nothing listens on: the command asks it, not the stale file's runtime.
    code = main(["analytics", "batch_x", "--api-url", "http://127.0.0.1:9", "--api-key", "k"])
    assert code == 2
    assert "cannot reach 127.0.0.1:9" in capsys.readouterr().err
    assert main(["analytics", "batch_x"]) == 2
    assert "the local runtime is not running" in capsys.readouterr().err
