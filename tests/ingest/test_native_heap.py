"""The ingest fixes glibc's heap thresholds (see carecite.ingest.native_heap)."""

from __future__ import annotations

import sys

import pytest

from carecite.ingest.native_heap import bound_native_heap


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt exists on Linux only")
def test_bounding_the_native_heap_is_accepted_by_glibc() -> None:
    assert bound_native_heap() is True
    a = bytearray(1 << 20)  # allocation still works after the change
    assert len(a) == 1 << 20
