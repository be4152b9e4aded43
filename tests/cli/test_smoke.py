"""`batch-calls smoke`: the command a team runs after `cdk deploy`, here against the
embedded runtime (the same checks, the same HTTP)."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from batch_calls.handlers import wiring
from batch_calls.logic import admin
from cli.main import main
from cli.smoke import run
from local import runtime


def test_smoke_passes_against_a_fresh_local_runtime(tmp_path: Path) -> None:
    """As `make smoke` runs it without a deployment: the whole command, in its own process."""
    # Nothing of this process's AWS or API settings: the command starts its own.
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "API_", "MOTO_"))
    }
    finished = subprocess.run(
        [str(Path(sys.executable).parent / "batch-calls"), "smoke", "--local"],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "FAIL" not in finished.stdout
    assert "smoke test passed: 6 of 6 checks passed" in finished.stdout


@pytest.fixture(scope="module")
def local() -> Iterator[runtime.LocalRuntime]:
    with runtime.running() as running:
        yield running


def test_a_refused_key_fails_first_and_says_which_key_is_wanted(
    local: runtime.LocalRuntime,
) -> None:
    (check,) = list(run(local.gateway.url, "not-a-key", timeout=5))
    assert not check.passed
    assert "HTTP 401" in check.detail or "HTTP 403" in check.detail
    assert "create-smoke-workspace" in check.detail


def test_a_workspace_that_is_no_smoke_workspace_is_refused_before_any_call(
    local: runtime.LocalRuntime,
) -> None:
    """The demo workspace has no smoke agent: nothing is created, so nobody is called."""
    checks = list(run(local.gateway.url, local.demo.api_key, timeout=5))
    assert [check.passed for check in checks] == [True, False]
    assert "create-smoke-workspace" in checks[1].detail


def test_no_deployment_named_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("API_URL", raising=False)
    monkeypatch.delenv("API_KEY", raising=False)
    assert main(["smoke"]) == 2
    assert "--api-url" in capsys.readouterr().err


def test_a_second_smoke_workspace_shares_the_made_up_number(local: runtime.LocalRuntime) -> None:
    """A deployment checked twice gets two smoke workspaces: the second one's number is
    not refused as another workspace's."""
    first = admin.create_smoke_workspace(wiring.database())
    second = admin.create_smoke_workspace(wiring.database())
    assert first.workspace.workspace_id != second.workspace.workspace_id
    assert [check.passed for check in run(local.gateway.url, second.api_key, timeout=120)] == [
        True
    ] * 6
