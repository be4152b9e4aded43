"""The validation vocabulary of the product contract (api-contract.md, "Validation errors").

Row reasons are listed in the order in which a row is checked: a row is reported under
the first reason it fails.
"""

from enum import StrEnum


class RowReason(StrEnum):
    MISSING_PHONE_NUMBER = "missing_phone_number"
    INVALID_PHONE_NUMBER = "invalid_phone_number"
    PREMIUM_RATE_NUMBER = "premium_rate_number"
    NO_ENABLED_COUNTRIES = "no_enabled_countries"
    UNSUPPORTED_COUNTRY = "unsupported_country"
    UNSUPPORTED_PREFIX = "unsupported_prefix"
    # Not in the seed: a cell or row too large to store or inject into a prompt.
    VALUE_TOO_LONG = "value_too_long"
    # Not in the seed: with recipient_local_time, a timezone cell that is no IANA zone.
    INVALID_TIMEZONE = "invalid_timezone"


class FileReason(StrEnum):
    MISSING_PHONE_NUMBER_COLUMN = "missing_phone_number_column"
    DUPLICATE_COLUMN = "duplicate_column"
    UNSUPPORTED_FILE_TYPE = "unsupported_file_type"
    FILE_TOO_LARGE = "file_too_large"
    EMPTY_FILE = "empty_file"
    UNREADABLE_FILE = "unreadable_file"
    # Not in the seed: limits that keep one upload within a batch's bounds.
    TOO_MANY_ROWS = "too_many_rows"
    TOO_MANY_COLUMNS = "too_many_columns"


class WarningReason(StrEnum):
    DUPLICATE_PHONE_NUMBER = "duplicate_phone_number"
    EXTRA_CELLS = "extra_cells"
    READ_AS_INTERNATIONAL = "read_as_international"
    SUPPRESSED = "suppressed"  # on the workspace's suppression list: skipped
    UNKNOWN_TIME_ZONE = "unknown_time_zone"  # local time asked, none known: batch zone
    NO_CONSENT = "no_consent"  # the compliance profile asks for consent: skipped
