"""Reading the synthesised template."""

from typing import Any

from tests.infra.conftest import STACK


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {key: r for key, r in template["Resources"].items() if r["Type"] == kind}


def function_id(template: dict[str, Any], logical_id: str) -> str:
    """The template's id of the function built from the spec `logical_id`."""
    name = f"{STACK}-{logical_id}"
    (found,) = [
        key
        for key, r in of_type(template, "AWS::Lambda::Function").items()
        if r["Properties"].get("FunctionName") == name
    ]
    return found


def statements(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    """Every statement of the inline policies attached to the role `role_id`."""
    found = []
    for policy in of_type(template, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    role = template["Resources"][role_id]["Properties"]
    for inline in role.get("Policies", []):
        found.extend(inline["PolicyDocument"]["Statement"])
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
