"""`batch-calls admin ...` against the running local product."""

import pytest

from batch_calls.domain.workspace import hash_api_key
from batch_calls.handlers import wiring
from cli.main import main
from local.api_gateway import LocalApiGateway
from local.demo import seed_workspace
from tests.api.client import Client


def test_admin_creates_a_workspace_whose_key_works_and_configures_it(
    gateway: LocalApiGateway, capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    table = wiring.database().table.name
    assert (
        main(
            ["admin", "--table", table, "create-workspace", "--name", "Cli", "--countries", "IN,US"]
        )
        == 0
    )
    printed = capsys.readouterr().out.split()
    workspace_id, api_key = printed[1], printed[4]
    assert wiring.database().workspace_of_key(hash_api_key(api_key)) == workspace_id

    for argv in (
        ["add-number", "--workspace", workspace_id, "--number", "+14155550111"],
        [
            "put-agent",
            "--workspace",
            workspace_id,
            "--agent-id",
            "agt_cli",
            "--prompt",
            "Hi {{name}}",
        ],
        ["configure", "--workspace", workspace_id, "--max-concurrent-calls", "7"],
        ["configure", "--workspace", workspace_id, "--provider", "twilio"],
    ):
        assert main(["admin", "--table", table, *argv]) == 0
    assert wiring.database().has_caller_number(workspace_id, "+14155550111")
    agent = wiring.database().get_agent(workspace_id, "agt_cli")
    assert agent is not None and agent.placeholders() == ["name"]
    workspace = wiring.database().get_workspace(workspace_id)
    assert workspace is not None and workspace.max_concurrent_calls == 7
    assert workspace.telephony_provider == "twilio"
    capsys.readouterr()
    wrong = ["configure", "--workspace", workspace_id, "--provider", "vonage"]
    assert main(["admin", "--table", table, *wrong]) == 1
    assert "'vonage' is not one of simulated, http, twilio" in capsys.readouterr().out

    assert Client(gateway.url, api_key).request("GET", "/batch-calls").status == 200


def test_admin_errors_say_what_is_wrong(capsys: pytest.CaptureFixture[str]) -> None:
    table = wiring.database().table.name
    assert (
        main(
            [
                "admin",
                "--table",
                table,
                "add-number",
                "--workspace",
                "ws_none",
                "--number",
                "+14155550111",
            ]
        )
        == 1
    )
    assert "no workspace ws_none" in capsys.readouterr().out
    with pytest.raises(SystemExit) as usage:
        main(["admin", "--table", table, "create-key"])
    assert usage.value.code == 2


def test_a_caller_number_is_shared_only_when_the_operator_says_so(
    gateway: LocalApiGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    database = wiring.database()
    table = database.table.name
    first = seed_workspace(database, name="Owner", numbers=("+14155550177",))
    second = seed_workspace(database, name="Newcomer", numbers=())
    add = ["admin", "--table", table, "add-number", "--workspace"]
    add_second = [*add, second.workspace.workspace_id, "--number", "+14155550177"]
    capsys.readouterr()

    assert main(add_second) == 1
    said = capsys.readouterr().out
    assert first.workspace.workspace_id in said and "--shared" in said
    assert not database.has_caller_number(second.workspace.workspace_id, "+14155550177")

    assert main([*add_second, "--shared"]) == 0
    assert database.has_caller_number(second.workspace.workspace_id, "+14155550177")
    # Adding it again to its owner is no conflict.
    assert main([*add, first.workspace.workspace_id, "--number", "+14155550177"]) == 0
