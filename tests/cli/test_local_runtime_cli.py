"""The CLI and the local runtime's .local/env: a stale file is named as such, never a
traceback; `local up` removes it when it stops, and Ctrl-C stops it while batches run."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from cli.common import NOT_RUNNING
from cli.main import main
from tests.api.client import CSV, multipart

CLI = Path(sys.executable).parent / "batch-calls"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    "argv",
    [
        ["report", "batch_0123"],
        ["admin", "add-number", "--workspace", "ws_x", "--number", "+14155550100"],
    ],
)
def test_a_stale_local_env_says_the_runtime_is_not_running(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("API_URL", "API_KEY", "TABLE_NAME"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".local").mkdir()
    (tmp_path / ".local" / "env").write_text(
        f"API_URL=http://127.0.0.1:{free_port()}\nAPI_KEY=k\nTABLE_NAME=t\n"
    )
    assert main(argv) == 2
    assert NOT_RUNNING in capsys.readouterr().err


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_ctrl_c_or_kill_stops_local_up_while_a_batch_runs_and_removes_its_env(
    tmp_path: Path, stop: signal.Signals
) -> None:
    up = subprocess.Popen(
        [str(CLI), "local", "up", "--port", str(free_port())],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert up.stdout is not None
        for line in up.stdout:
            if line.startswith("Ctrl-C stops it"):
                break
        env_file = tmp_path / ".local" / "env"
        env = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
        body, content_type = multipart(
            {"agent_id": "agt_demo", "from_phone_number": "+912234567890"},
            {"file": ("contacts.csv", CSV.encode())},
        )
        request = urllib.request.Request(
            env["API_URL"].strip() + "/batch-calls",
            data=body,
            headers={"Content-Type": content_type, "x-api-key": env["API_KEY"].strip()},
        )
        with urllib.request.urlopen(request, timeout=30) as reply:
            assert json.load(reply)["status"] in ("initiated", "running")
        time.sleep(1)
        up.send_signal(stop)
        up.wait(timeout=20)  # a bound on a hang, not a speed target
        assert up.returncode == 0
        assert not env_file.exists()
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
