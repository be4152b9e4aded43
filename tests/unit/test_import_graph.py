"""Dependencies point inward (architecture.md section 3): no module of logic/ or domain/
reaches AWS, the stores, the handlers or a concrete telephony provider, directly or
through another batch_calls module. Read statically from the source (every import
statement, those inside functions too), so nothing is imported to check it; importing a
module also runs its parent packages' __init__, so they count as imported."""

import ast
import functools
from collections.abc import Iterable
from pathlib import Path

import batch_calls

PACKAGE = Path(batch_calls.__file__).parent
CHECKED = ("batch_calls.logic", "batch_calls.domain")
FORBIDDEN = (
    "boto3",
    "botocore",
    "batch_calls.store",
    "batch_calls.handlers",
    # The concrete providers; telephony.base (the Provider port) and signing are allowed.
    "batch_calls.telephony.simulated",
    "batch_calls.telephony.http",
    "batch_calls.telephony.twilio",
    "batch_calls.telephony.amazon_connect",
    "batch_calls.telephony.transport",
    "batch_calls.telephony.credentials",
)


def modules(root: Path) -> dict[str, Path]:
    """Every module of the package under `root`, by dotted name."""
    found = {}
    for path in root.rglob("*.py"):
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: Iterable[str]) -> set[str]:
    """What `name` imports: package modules by full name (a `from package import
    module` names the module), anything else by its top-level name."""
    known = set(known)
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.add(module)
            found |= {f"{module}.{a.name}" for a in node.names if f"{module}.{a.name}" in known}
    package = name.partition(".")[0]
    resolved = set()
    for module in found:
        top = module.partition(".")[0]
        if top != package:
            resolved.add(top)
            continue
        parts = module.split(".")
        # The module and every parent package it runs on import.
        resolved |= {".".join(parts[:i]) for i in range(1, len(parts) + 1)} & known
    return resolved - {name}


@functools.cache
def _import_graph(root: Path) -> dict[str, frozenset[str]]:
    every = modules(root)
    return {name: frozenset(imports(name, path, every)) for name, path in every.items()}


def offending_chains(
    root: Path,
    checked: tuple[str, ...],
    forbidden: tuple[str, ...],
) -> list[str]:
    """For each checked module that reaches a forbidden one, the import chain to it."""
    graph = _import_graph(root)

    def is_forbidden(module: str) -> bool:
        return any(module == f or module.startswith(f + ".") for f in forbidden)

    chains = []
    for start in sorted(m for m in graph if m.startswith(checked)):
        came_from: dict[str, str | None] = {start: None}
        queue = [start]
        while queue:
            current = queue.pop(0)
            if is_forbidden(current):
                chain = [current]
                while (previous := came_from[chain[-1]]) is not None:
                    chain.append(previous)
                chains.append(" -> ".join(reversed(chain)))
                break
            for module in sorted(graph.get(current, ())):
                if module not in came_from:
                    came_from[module] = current
                    queue.append(module)
    return chains


def test_logic_and_domain_reach_no_aws_store_handler_or_concrete_provider() -> None:
    assert offending_chains(PACKAGE, CHECKED, FORBIDDEN) == []


def test_the_check_finds_an_indirect_import(tmp_path: Path) -> None:
    """The walker itself: a chain through another module, a relative import and a
    parent package's __init__ are all found."""
    package = tmp_path / "batch_calls"
    for folder in ("logic", "store", "telephony"):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "logic" / "rules.py").write_text("from . import helpers\n")
    (package / "logic" / "helpers.py").write_text(
        "def later():\n    from batch_calls.store.tables import Table\n"
    )
    (package / "store" / "tables.py").write_text("import boto3\n")
    (package / "logic" / "calls.py").write_text("from batch_calls.telephony.base import P\n")
    (package / "telephony" / "base.py").write_text("P = 1\n")
    (package / "telephony" / "__init__.py").write_text("from .twilio import T\n")
    (package / "telephony" / "twilio.py").write_text("T = 1\n")
    (package / "logic" / "pure.py").write_text("import json\nfrom batch_calls.logic import rules\n")

    chains = offending_chains(
        package, ("batch_calls.logic",), ("boto3", "batch_calls.telephony.twilio")
    )

    assert chains == [
        "batch_calls.logic.calls -> batch_calls.telephony -> batch_calls.telephony.twilio",
        "batch_calls.logic.helpers -> batch_calls.store.tables -> boto3",
        "batch_calls.logic.pure -> batch_calls.logic.rules -> batch_calls.logic.helpers"
        " -> batch_calls.store.tables -> boto3",
        "batch_calls.logic.rules -> batch_calls.logic.helpers -> batch_calls.store.tables -> boto3",
    ]
