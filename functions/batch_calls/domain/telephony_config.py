"""A workspace's telephony config: which destinations its calls may reach.

A frozen dataclass rather than a pydantic model: `batch-calls validate` reads one per run
and is timed as a whole process, of which importing pydantic would be a tenth. Pydantic
still validates it wherever it is nested (the Workspace model: unknown fields are errors
there too), and `parse_config` leaves anything but a plain JSON object of the documented
types to pydantic, so a config file reads exactly as the same object in the API would.
"""

import json
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Literal, get_args

Route = Literal["pstn", "sip"]


@dataclass(frozen=True)
class TelephonyConfig:
    """api-contract.md, "Telephony config".

    `route: "sip"` skips the country and prefix checks (the number must still be valid).
    An empty `enabled_prefixes` allows every prefix of an enabled country.
    """

    __pydantic_config__: ClassVar[dict[str, str]] = {"extra": "forbid"}  # read by pydantic

    route: Route = "pstn"
    enabled_countries: tuple[str, ...] = ()
    enabled_prefixes: tuple[str, ...] = ()
    blocked_prefixes: tuple[str, ...] = ()
    allow_premium_rate: bool = False

    def __post_init__(self) -> None:
        countries = tuple(country.strip().upper() for country in self.enabled_countries)
        for country in countries:
            if len(country) != 2 or not country.isascii() or not country.isalpha():
                raise ValueError(
                    f"enabled_countries: {country!r} is not a two-letter ISO 3166 country code"
                )
        object.__setattr__(self, "enabled_countries", countries)
        for name in ("enabled_prefixes", "blocked_prefixes"):
            prefixes = tuple(getattr(self, name))
            for prefix in prefixes:
                if not _matches_prefix_pattern(prefix):
                    raise ValueError(
                        f"{name}: {prefix!r} is not a prefix like +1415 (a + and 1-15 digits)"
                    )
            object.__setattr__(self, name, prefixes)


def _matches_prefix_pattern(prefix: str) -> bool:
    return (
        len(prefix) >= 2
        and prefix[0] == "+"
        and prefix[1:].isascii()
        and prefix[1:].isdigit()
        and len(prefix) <= 16
    )


def parse_config(text: str | bytes) -> TelephonyConfig:
    """A telephony config from JSON (the CLI's `--config`, `admin configure`); raises
    ValueError saying what to fix."""
    try:
        value = json.loads(text)
    except ValueError as error:
        raise ValueError(f"is not JSON ({error})") from None
    if _is_plain(value):
        return TelephonyConfig(**{name: _tuple_if_list(item) for name, item in value.items()})
    # Any other input as pydantic reads it in the API (imported only for such input).
    from pydantic import TypeAdapter, ValidationError  # noqa: PLC0415

    try:
        return TypeAdapter(TelephonyConfig).validate_python(value)
    except ValidationError as error:
        raise ValueError(
            "; ".join(
                f"{'.'.join(str(part) for part in e['loc']) or 'config'}: {e['msg']}"
                for e in error.errors()
            )
        ) from None


def _is_plain(value: Any) -> bool:
    """An object with documented fields only, each of its documented JSON type."""
    if not isinstance(value, dict):
        return False
    known = {field.name for field in fields(TelephonyConfig)}
    for name, item in value.items():
        if name not in known:
            return False
        if name == "route":
            plain = item in get_args(Route)
        elif name == "allow_premium_rate":
            plain = isinstance(item, bool)
        else:
            plain = isinstance(item, list) and all(type(entry) is str for entry in item)
        if not plain:
            return False
    return True


def _tuple_if_list(item: Any) -> Any:
    return tuple(item) if isinstance(item, list) else item
