"""Giving the memory a closed connection held back to the system.

Built in notebook 08 (errors and attacks).

When a connection ends, CPython frees its buffers at once, but the C
allocator underneath (glibc's malloc, on Linux) keeps freed heap pages for
later use. After an attack that made the server buffer tens of MiB, the
process would stay that large although nothing uses the memory. So when a
connection that moved a lot of bytes closes, the server asks glibc to return
what is free (``malloc_trim``), at most five times a second. Elsewhere (no glibc)
this does nothing: the memory is still free for the process to reuse.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable

__all__ = ["TRIM_AFTER_BYTES", "TRIM_DELAY", "TRIM_INTERVAL", "MemoryReturn"]

#: A connection that moved at least this many bytes may have left large free areas.
TRIM_AFTER_BYTES = 1024 * 1024
#: Seconds between two trims, whatever the number of connections closing...
TRIM_INTERVAL = 0.2
#: ...and how long after a close, so that what the close freed is freed by then.
TRIM_DELAY = 0.1


@functools.cache
def _glibc_malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim from the C library already loaded (no search, no subprocess)."""
    try:
        return ctypes.CDLL(None).malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows)
        return None


class MemoryReturn:
    """Decides when to trim, given each closing connection's traffic and the time."""

    def __init__(self, trim: Callable[[int], int] | None = None) -> None:
        self._trim = trim if trim is not None else _glibc_malloc_trim()
        self._last = float("-inf")
        self.due = False  # a big connection closed since the last trim

    def connection_closed(self, bytes_moved: int) -> None:
        """A connection closed: remember whether it may have left much memory free."""
        if bytes_moved >= TRIM_AFTER_BYTES:
            self.due = True

    def trim_if_due(self, now: float) -> bool:
        """Return free memory to the system if a big connection closed; True if trimmed."""
        if not self.due or self._trim is None or now - self._last < TRIM_INTERVAL:
            return False
        self._trim(0)
        self.due, self._last = False, now
        return True
