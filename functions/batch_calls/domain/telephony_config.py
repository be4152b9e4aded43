"""A workspace's telephony config: which destinations its calls may reach."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator


class TelephonyConfig(BaseModel):
    """api-contract.md, "Telephony config".

    `route: "sip"` skips the country and prefix checks (the number must still be valid).
    An empty `enabled_prefixes` allows every prefix of an enabled country.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    route: Literal["pstn", "sip"] = "pstn"
    enabled_countries: tuple[str, ...] = ()
    enabled_prefixes: tuple[str, ...] = ()
    blocked_prefixes: tuple[str, ...] = ()
    allow_premium_rate: bool = False

    @field_validator("enabled_countries")
    @classmethod
    def _countries_are_region_codes(cls, countries: tuple[str, ...]) -> tuple[str, ...]:
        normalised = tuple(country.strip().upper() for country in countries)
        for country in normalised:
            if len(country) != 2 or not country.isascii() or not country.isalpha():
                raise ValueError(f"{country!r} is not a two-letter ISO 3166 country code")
        return normalised

    @field_validator("enabled_prefixes", "blocked_prefixes")
    @classmethod
    def _prefixes_are_e164_starts(cls, prefixes: tuple[str, ...]) -> tuple[str, ...]:
        for prefix in prefixes:
            if not _matches_prefix_pattern(prefix):
                raise ValueError(f"{prefix!r} is not a prefix like +1415 (a + and 1-15 digits)")
        return prefixes


def _matches_prefix_pattern(prefix: str) -> bool:
    return (
        len(prefix) >= 2
        and prefix[0] == "+"
        and prefix[1:].isascii()
        and prefix[1:].isdigit()
        and len(prefix) <= 16
    )
