"""Handlers get their services from handlers/wiring.py, never from store/ directly, so
that one place builds them (and a test can swap them)."""

import ast
from pathlib import Path

from batch_calls.handlers import wiring

HANDLERS = Path(wiring.__file__).parent
# Settings read from the environment, not stores (until one typed settings object).
SETTINGS_READERS = {"required"}


def test_no_handler_but_wiring_builds_a_store() -> None:
    found = [
        (path.name, node.lineno, node.attr)
        for path in sorted(HANDLERS.glob("*.py"))
        if path.name != "wiring.py"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "store"
        and node.attr not in SETTINGS_READERS
    ]
    assert found == []
