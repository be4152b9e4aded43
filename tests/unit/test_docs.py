"""The design a newcomer reads in docs/ stays the one the code cites: every "architecture.md
section N", invariant number and api-contract.md section named anywhere in the repository
exists in docs/; every file of architecture.md's "Where each behaviour is decided" table
exists and defines the name given; the routes of api-contract.md are the API's own."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from batch_calls.handlers.api import app

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "functions" / "batch_calls"
ARCHITECTURE = REPO / "docs" / "architecture.md"
API_CONTRACT = REPO / "docs" / "api-contract.md"
# Where the code, tests and docs that cite the design live.
CITING = ("functions", "tests", "cli", "infra", "local", "bench", "statemachines", "docs")
SUFFIXES = {".py", ".md", ".json", ".js", ".html"}
# A table path starting with one of these is from the repository root; any other is in
# the Lambda package (functions/batch_calls/).
TOP_LEVEL = {"infra", "local", "statemachines", "cli", "tests", "bench", "docs", "examples"}

NUMBERS = r"\d+[a-z]?(?:\s*(?:,|and|or)\s*\d+[a-z]?)*"
SECTION_CITATION = re.compile(rf"architecture(?:\.md)?,?\s+sections?\s+({NUMBERS})")
INVARIANT_CITATION = re.compile(rf"\binvariants?\s+({NUMBERS})", re.IGNORECASE)
CONTRACT_CITATION = re.compile(r"api-contract\.md(?:'s|,)\s*((?:\"[^\"]+\"(?:\s*(?:,|and)\s*)?)+)")
TABLE_ROW = re.compile(r"^\| ([^|]+?) \| `([^`]+)` \| `([^`]+)` \|$", re.MULTILINE)
ROUTE_ROW = re.compile(r"^\| `(GET|POST|PUT|PATCH|DELETE) (/[^`]*)` \|", re.MULTILINE)


def _citing_files() -> Iterator[Path]:
    for top in CITING:
        for path in (REPO / top).rglob("*"):
            if path.suffix in SUFFIXES and "__pycache__" not in path.parts:
                yield path
    yield REPO / "README.md"


def _prose(path: Path) -> str:
    """The file's text with line breaks, and a comment's `#` after them, as spaces: a
    citation wrapped over two lines is still found."""
    return re.sub(r"\s*\n\s*(?:#\s*)?", " ", path.read_text(encoding="utf-8"))


def _cited(pattern: re.Pattern[str]) -> dict[str, set[str]]:
    """Each number cited by `pattern`, with the files citing it."""
    cited: dict[str, set[str]] = {}
    for path in _citing_files():
        for match in pattern.finditer(_prose(path)):
            for number in re.findall(r"\d+[a-z]?", match.group(1)):
                cited.setdefault(number, set()).add(str(path.relative_to(REPO)))
    return cited


def _architecture() -> str:
    return ARCHITECTURE.read_text(encoding="utf-8")


def _sections() -> set[str]:
    return set(re.findall(r"^## (\d+[a-z]?)\. ", _architecture(), re.MULTILINE))


def _invariants() -> set[str]:
    text = _architecture()
    start = text.index("\n## 8. ")
    end = text.index("\n## ", start + 1)
    return set(re.findall(r"^(\d+)\. ", text[start:end], re.MULTILINE))


def _table() -> list[tuple[str, str, str]]:
    text = _architecture()
    start = text.index("\n## 11. Where each behaviour is decided")
    return TABLE_ROW.findall(text[start:])


def test_cited_sections_exist() -> None:
    cited = _cited(SECTION_CITATION)
    assert cited, "no citation found: the pattern no longer matches the code's habit"
    missing = {number: files for number, files in cited.items() if number not in _sections()}
    assert not missing, f"cited sections docs/architecture.md lacks: {missing}"


def test_cited_invariants_exist() -> None:
    invariants = _invariants()
    assert invariants == {str(n) for n in range(1, 11)}
    cited = _cited(INVARIANT_CITATION)
    assert cited
    missing = {number: files for number, files in cited.items() if number not in invariants}
    assert not missing, f"cited invariants docs/architecture.md lacks: {missing}"


def test_cited_contract_sections_exist() -> None:
    headings = set(re.findall(r"^#+ (.+)$", API_CONTRACT.read_text(encoding="utf-8"), re.M))
    cited: dict[str, set[str]] = {}
    for path in _citing_files():
        for match in CONTRACT_CITATION.finditer(_prose(path)):
            for title in re.findall(r'"([^"]+)"', match.group(1)):
                cited.setdefault(title, set()).add(str(path.relative_to(REPO)))
    assert cited
    missing = {title: files for title, files in cited.items() if title not in headings}
    assert not missing, f"cited sections docs/api-contract.md lacks: {missing}"


def test_the_table_covers_the_system() -> None:
    rows = _table()
    assert 30 <= len(rows) <= 50
    behaviours = [behaviour for behaviour, _, _ in rows]
    assert len(set(behaviours)) == len(behaviours), "a behaviour is listed twice"


@pytest.mark.parametrize(("behaviour", "path", "name"), _table())
def test_each_table_row_names_a_file_that_defines_the_name(
    behaviour: str, path: str, name: str
) -> None:
    root = REPO if path.partition("/")[0] in TOP_LEVEL else PACKAGE
    file = root / path
    assert file.is_file(), f"{behaviour}: {path} does not exist"
    text = file.read_text(encoding="utf-8")
    if file.suffix == ".py":
        definition = rf"^\s*(?:async\s+)?(?:def|class)\s+{name}\b|^{name}\s*(?::[^=\n]*)?="
    else:
        definition = rf'\b{name}\b|"{name}"'
    assert re.search(definition, text, re.MULTILINE), f"{behaviour}: {path} has no {name}"


def test_the_contract_lists_the_api_routes() -> None:
    """api-contract.md's route table is the OpenAPI document's operations, no more, no
    fewer."""
    documented = set(ROUTE_ROW.findall(API_CONTRACT.read_text(encoding="utf-8")))
    schema = app.get_openapi_schema()
    served = {
        (method.upper(), path)
        for path, item in (schema.paths or {}).items()
        for method in ("get", "post", "put", "patch", "delete")
        if getattr(item, method) is not None
    }
    assert documented == served, (
        f"not in docs/api-contract.md: {sorted(served - documented)}; "
        f"not served: {sorted(documented - served)}"
    )
