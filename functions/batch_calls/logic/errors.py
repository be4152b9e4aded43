"""What a request can get wrong, each with a body that says what to fix.

Logic raises them; each adapter says them in its own terms (handlers/http_errors.py: the
API's status for each kind; a rejected S3 drop's .errors.json; the CLI's message).
"""

from typing import Any


class RequestError(Exception):
    error = "invalid_request"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "message": self.message, **self.details}


class InvalidField(RequestError):
    """A field is missing or out of range: `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", field=field)


class ValidationFailed(RequestError):
    """The contact file failed validation; the body is the validator's 400 body."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(str(body["message"]))
        self._body = body

    def body(self) -> dict[str, Any]:
        return self._body


class MissingVariables(RequestError):
    error = "missing_variables"


class Unauthorized(RequestError):
    error = "unauthorized"


class Forbidden(RequestError):
    """Something the key's workspace does not own (seed 004 answers these with 403)."""

    error = "forbidden"


class NotFound(RequestError):
    error = "not_found"


class Conflict(RequestError):
    error = "conflict"


class InvalidState(RequestError):
    """The batch's status does not allow this action now."""

    error = "invalid_state"
