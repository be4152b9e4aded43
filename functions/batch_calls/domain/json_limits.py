"""JSON from outside (API bodies, provider callbacks), read within limits.

`json.loads` alone costs a hostile body's sender nothing: a body nested 100,000 levels
deep raises RecursionError, and an integer of more than 4,300 digits a ValueError whose
message is Python's. Here the size is checked before parsing, an integer's length as
the parser meets it (before it is converted), and nesting is stopped at the
interpreter's recursion limit; each failure is a `JsonRejected` that says what to fix.
"""

import json
import math
import re
from typing import Any, Final

MAX_INTEGER_DIGITS: Final = 64
# A \uD800-\uDFFF escape: JSON allows one alone, but the text it makes is not Unicode
# (nothing can store or encode it), so a value that keeps one alone is refused.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")


class JsonRejected(ValueError):
    """JSON that is not read; `message` says why, for the sender."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _integer(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise JsonRejected(f"holds an integer of more than {MAX_INTEGER_DIGITS} digits")
    return int(digits)


def _number(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise JsonRejected(f"holds a number too large to read ({text[:20]}...)")
    return number


def _constant(name: str) -> float:
    raise JsonRejected(f"holds {name}, which is not a JSON number")


def loads(text: str | bytes, max_bytes: int) -> Any:
    """The JSON value of `text`; JsonRejected if it is larger than `max_bytes`, not JSON,
    nested too deeply, holds an integer of more than MAX_INTEGER_DIGITS digits (or a
    number that is not finite) or a lone surrogate escape."""
    if len(text) > max_bytes:
        raise JsonRejected(f"is larger than {max_bytes:,} bytes")
    try:
        value = json.loads(text, parse_int=_integer, parse_float=_number, parse_constant=_constant)
    except JsonRejected:
        raise
    except RecursionError:
        raise JsonRejected("is nested too deeply") from None
    except json.JSONDecodeError as error:
        raise JsonRejected(f"is not JSON ({error.msg} at position {error.pos})") from None
    except (ValueError, TypeError):  # bytes that are not UTF-8 text, for one
        raise JsonRejected("is not JSON (not UTF-8 text)") from None
    escaped = (
        _SURROGATE_ESCAPE.search(text)
        if isinstance(text, str)
        else _SURROGATE_ESCAPE_BYTES.search(text)
    )
    if escaped and not _is_unicode(value):
        raise JsonRejected("holds a \\u escape of half a character (a lone surrogate)")
    return value


def _is_unicode(value: Any) -> bool:
    """Whether every string in `value` (keys too) is Unicode text: an escape pair
    that makes one character is fine, a half of one is not."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_is_unicode(k) and _is_unicode(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_is_unicode(item) for item in value)
    return True
