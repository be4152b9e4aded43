"""Each test starts with an empty simulator registry (it is process-wide)."""

from collections.abc import Iterator

import pytest

from batch_calls.telephony.simulated import reset_simulator


@pytest.fixture(autouse=True)
def _empty_registry() -> Iterator[None]:
    reset_simulator()
    yield
    reset_simulator()
