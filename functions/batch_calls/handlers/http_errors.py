"""How the API answers what went wrong: the HTTP status of each kind of error.

logic/errors.py says what went wrong (the kind, the field, the details); this table says
how HTTP puts it. The API's exception handler looks an error's kind up here, never its
message.
"""

from http import HTTPStatus

from batch_calls.logic.errors import (
    Conflict,
    Forbidden,
    InvalidState,
    NotFound,
    RequestError,
    Unauthorized,
)


class UnsupportedMediaType(RequestError):
    """The body is of a type this route does not read (the message says which to send)."""

    error = "unsupported_media_type"


# Each kind of error's status; a kind not listed has its nearest listed base's (an
# InvalidField or a ValidationFailed is a RequestError: 400).
STATUSES: dict[type[RequestError], HTTPStatus] = {
    RequestError: HTTPStatus.BAD_REQUEST,
    Unauthorized: HTTPStatus.UNAUTHORIZED,
    Forbidden: HTTPStatus.FORBIDDEN,
    NotFound: HTTPStatus.NOT_FOUND,
    Conflict: HTTPStatus.CONFLICT,
    InvalidState: HTTPStatus.CONFLICT,
    UnsupportedMediaType: HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
}


def status_of(error: RequestError) -> HTTPStatus:
    return next(STATUSES[kind] for kind in type(error).__mro__ if kind in STATUSES)
