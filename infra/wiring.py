"""Logical id -> the construct built for it: what a function's environment variable holds
and what the function may do with it.

Each construct registers what it builds under its `infra.resources` logical id, with the
grant its kind calls for; `Functions` then resolves every `FunctionSpec.environment`
through here. A resource another branch adds to resources.py needs only to be
registered by the construct of its kind: no function code changes.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aws_cdk import aws_iam as iam
from constructs import IConstruct

from infra.resources import FunctionSpec, environment_value, setting_name

Grant = Callable[[iam.IGrantable], object]


def no_grant(grantee: iam.IGrantable) -> None:
    """For a resource a function only passes on (a function ARN handed to the scheduler)."""


class UnknownResource(ValueError):
    """A function's environment names something the stack does not build."""


@dataclass(frozen=True)
class Wired:
    logical_id: str
    kind: str
    name: str
    arn: str
    grant: Grant
    construct: IConstruct | None = None
    url: str | None = None

    def value_for(self, variable: str) -> str:
        return environment_value(variable, name=self.name, arn=self.arn, url=self.url)


class Registry:
    def __init__(self) -> None:
        self._wired: dict[str, Wired] = {}
        self._settings: dict[str, str] = {}

    def add(self, wired: Wired) -> Wired:
        if wired.logical_id in self._wired:
            raise ValueError(f"{wired.logical_id} is built twice")
        self._wired[wired.logical_id] = wired
        return wired

    def add_setting(self, name: str, value: str) -> None:
        self._settings[name] = value

    def get(self, logical_id: str, *, wanted_by: str) -> Wired:
        wired = self._wired.get(logical_id)
        if wired is None:
            raise UnknownResource(
                f"{wanted_by} names {logical_id!r}, which this stack does not build; "
                f"known logical ids: {', '.join(sorted(self._wired))}. Build it in the "
                "infra construct of its kind and register it (infra/wiring.py)."
            )
        return wired

    def environment(self, spec: FunctionSpec) -> dict[str, str]:
        """The function's variables resolved to this stack's names, ARNs, URLs and settings."""
        resolved: dict[str, str] = {}
        for variable, value in spec.environment.items():
            setting = setting_name(value)
            if setting is None:
                wanted_by = f"{spec.logical_id}: {variable}"
                resolved[variable] = self.get(value, wanted_by=wanted_by).value_for(variable)
            elif setting in self._settings:
                resolved[variable] = self._settings[setting]
            else:
                raise UnknownResource(
                    f"{spec.logical_id}: {variable} wants the setting {value}, which this "
                    f"stack does not supply; known settings: {', '.join(sorted(self._settings))}"
                    " (infra/stack.py supplies settings; plain values come from cdk.json's "
                    '"settings" context)'
                )
        return resolved

    def grant(self, spec: FunctionSpec, grantee: iam.IGrantable) -> None:
        """What its environment names, the function may use, each as its kind allows."""
        for variable, value in spec.environment.items():
            if setting_name(value) is None:
                self.get(value, wanted_by=f"{spec.logical_id}: {variable}").grant(grantee)

    def of_kind(self, kind: str) -> Mapping[str, Wired]:
        return {key: wired for key, wired in self._wired.items() if wired.kind == kind}
