"""Handlers get their services from handlers/wiring.py, never from store/ directly, so
that one place builds them (and a test can swap them)."""

import ast
from pathlib import Path

from batch_calls.handlers import wiring

HANDLERS = Path(wiring.__file__).parent


def _imports(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
    return names


def test_no_handler_but_wiring_imports_the_stores() -> None:
    found = [
        (path.name, name)
        for path in sorted(HANDLERS.glob("*.py"))
        if path.name != "wiring.py"
        for name in _imports(ast.parse(path.read_text()))
        if name == "batch_calls.store" or name.startswith("batch_calls.store.")
    ]
    assert found == []
