"""Keep a bulk ingest's native heap from growing with the corpus (glibc only; elsewhere a no-op).

glibc raises its mmap threshold every time a large block is freed, so after the first few encode
batches torch's activations (a new shape each batch) come from the main heap, and the freed pages
stay in the process: RSS climbed with the number of batches, i.e. with the corpus. Fixing the mmap
and trim thresholds keeps large blocks in their own mappings, returned to the system when freed.
Measured (docs/benchmarks.md): a 60-patient ingest peaked at 898 MB instead of 1,261 MB, and a
150-patient one at 904 MB instead of 1,634 MB. The price is system time (fresh mappings
are zero-filled): ~15-30% more CPU for the ingest, hence ``Settings.ingest_bound_native_heap``.
"""

from __future__ import annotations

import ctypes
import sys

_M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's <malloc.h>
_M_MMAP_THRESHOLD = -3
THRESHOLD = 128 * 1024


def bound_native_heap(threshold: int = THRESHOLD) -> bool:
    """Fix glibc's mmap and trim thresholds for this process; False where there is no glibc."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:  # another C library (musl)
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, threshold)) and bool(mallopt(_M_TRIM_THRESHOLD, threshold))
