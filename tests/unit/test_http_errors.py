"""The API's one table of HTTP statuses, by kind of error (handlers/http_errors.py), and
the adapters' rule: an error is told by its type, never by its words."""

import ast
from pathlib import Path

from batch_calls.handlers import http_errors
from batch_calls.handlers.http_errors import UnsupportedMediaType, status_of
from batch_calls.logic import errors

HANDLERS = Path(http_errors.__file__).parent


def _kinds(base: type[errors.RequestError]) -> list[type[errors.RequestError]]:
    return [base, *(kind for sub in base.__subclasses__() for kind in _kinds(sub))]


def test_each_kind_of_error_has_its_status() -> None:
    examples = {
        errors.InvalidField: errors.InvalidField("name", "is required"),
        errors.ValidationFailed: errors.ValidationFailed({"message": "3 rows failed"}),
    }
    statuses = {
        kind.__name__: status_of(examples.get(kind) or kind("what to fix"))
        for kind in _kinds(errors.RequestError)
    }
    assert statuses == {
        "RequestError": 400,
        "InvalidField": 400,
        "ValidationFailed": 400,
        "MissingVariables": 400,
        "Unauthorized": 401,
        "Forbidden": 403,
        "NotFound": 404,
        "Conflict": 409,
        "InvalidState": 409,
        "UnsupportedMediaType": 415,
    }
    assert issubclass(UnsupportedMediaType, errors.RequestError)


def test_logic_errors_say_what_went_wrong_not_how_http_says_it() -> None:
    assert not [kind for kind in _kinds(errors.RequestError) if hasattr(kind, "status")]
    assert "HTTP" not in Path(errors.__file__).read_text().replace("handlers/http_errors", "")


def _handler_trees() -> list[tuple[str, ast.AST]]:
    return [(path.name, ast.parse(path.read_text())) for path in sorted(HANDLERS.glob("*.py"))]


def test_no_handler_matches_an_exceptions_text() -> None:
    """`"boundary" in str(error)` decides by words a library may change."""
    found = [
        (name, node.lineno)
        for name, tree in _handler_trees()
        for node in ast.walk(tree)
        if isinstance(node, ast.Compare)
        and any(isinstance(op, ast.In | ast.NotIn) for op in node.ops)
        and any(
            isinstance(side, ast.Call) and getattr(side.func, "id", None) == "str"
            for side in node.comparators
        )
    ]
    assert found == []


def test_no_handler_reads_a_private_attribute_of_the_resolver() -> None:
    """app._static_routes and the like change without notice between Powertools versions."""
    found = [
        (name, node.lineno, node.attr)
        for name, tree in _handler_trees()
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "app"
        and node.attr.startswith("_")
    ]
    assert found == []


def test_logic_and_domain_know_nothing_of_http() -> None:
    """Statuses, responses and the API's resolver are the adapters' (handlers/)."""
    package = HANDLERS.parent
    found = [
        (str(path.relative_to(package)), word)
        for layer in ("logic", "domain")
        for path in sorted((package / layer).glob("*.py"))
        for word in ("HTTPStatus", "batch_calls.handlers", "event_handler", "status_code")
        if word in path.read_text()
    ]
    assert found == []
