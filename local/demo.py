"""The demo workspace the embedded runtime starts with (issue: local runtime)."""

from batch_calls.domain.telephony_config import TelephonyConfig
from batch_calls.logic import admin
from batch_calls.store.database import Database

DEMO_AGENT = "agt_demo"
DEMO_PROMPT = (
    "You are calling {{customer_name}} on behalf of the lending team. Confirm their "
    "interest and book a follow-up at a time that suits them."
)
DEMO_NUMBERS = ("+912234567890", "+14155550100")
DEMO_TELEPHONY = TelephonyConfig(enabled_countries=("IN", "US"))


def seed_workspace(
    database: Database,
    name: str = "Demo",
    numbers: tuple[str, ...] = DEMO_NUMBERS,
    telephony: TelephonyConfig = DEMO_TELEPHONY,
    max_concurrent_calls: int = 20,
) -> admin.NewWorkspace:
    """A workspace with an API key, caller numbers, a published agent and a config."""
    created = admin.create_workspace(database, name, telephony, max_concurrent_calls)
    workspace_id = created.workspace.workspace_id
    for number in numbers:
        # The demo numbers are made up, and every seeded workspace calls from them.
        admin.add_caller_number(database, workspace_id, number, shared=True)
    admin.put_agent(database, workspace_id, DEMO_AGENT, DEMO_PROMPT)
    return created
