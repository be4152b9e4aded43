"""Modules share only public names: no module of the Lambda package reaches into another
for an underscored one, and the ingest modules import one another without a cycle
(imports inside functions included)."""

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).parent.parent.parent / "functions" / "batch_calls"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, ast.Module]:
    return {module_name(path): ast.parse(path.read_text()) for path in PACKAGE.rglob("*.py")}


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_imports(name: str, tree: ast.Module, known: set[str]) -> Iterator[str]:
    """`from sibling import _x`, and `sibling._x` where `sibling` names a module."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module in known:
            for alias in node.names:
                imported = f"{node.module}.{alias.name}"
                if imported in known:
                    aliases[alias.asname or alias.name] = imported
                elif is_private(alias.name) and node.module != name:
                    yield f"{name} imports {alias.name} from {node.module}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname and alias.name in known:
                    aliases[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and aliases[node.value.id] != name
            and is_private(node.attr)
        ):
            yield f"{name} uses {node.attr} of {aliases[node.value.id]}"


def imported_modules(tree: ast.Module, known: set[str]) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in known:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found & known


def test_no_module_imports_a_private_name_of_another() -> None:
    trees = modules()
    known = set(trees)
    assert "batch_calls.ingest.readers" in known
    found = [line for name, tree in trees.items() for line in private_imports(name, tree, known)]
    assert found == []


def test_the_check_sees_a_private_import() -> None:
    tree = ast.parse(
        "from batch_calls.ingest.table import _hidden\n"
        "from batch_calls.ingest import readers\n"
        "readers._parse_json('', b'')\n"
    )
    known = {"batch_calls.ingest", "batch_calls.ingest.table", "batch_calls.ingest.readers"}
    assert list(private_imports("batch_calls.ingest.validate", tree, known)) == [
        "batch_calls.ingest.validate imports _hidden from batch_calls.ingest.table",
        "batch_calls.ingest.validate uses _parse_json of batch_calls.ingest.readers",
    ]


def test_ingest_modules_import_one_another_without_a_cycle() -> None:
    trees = {
        name: tree for name, tree in modules().items() if name.startswith("batch_calls.ingest")
    }
    known = set(trees)
    graph = {name: imported_modules(tree, known) - {name} for name, tree in trees.items()}
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in visiting, f"import cycle: {' -> '.join((*path, name))}"
        if name in order:
            return
        visiting.add(name)
        for imported in sorted(graph[name]):
            visit(imported, (*path, name))
        visiting.discard(name)
        order.append(name)

    for name in sorted(graph):
        visit(name, ())
    assert order.index("batch_calls.ingest.table") < order.index("batch_calls.ingest.readers")
