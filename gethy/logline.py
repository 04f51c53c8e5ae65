"""The one line a server connection logs when it ends.

Built in notebook 07 (asyncio server).

Bad clients are not errors: a connection that ends, however it ends, logs
one line at INFO on the ``gethy.server`` logger, such as::

    127.0.0.1:50312 h2c: 3 request(s), 1.2 kB in, 5.6 kB out, 0.31 s; idle for 60 s
"""

from __future__ import annotations

from typing import Any

__all__ = ["describe", "format_address", "summary"]


def summary(
    peer: str, kind: str, requests: int, bytes_in: int, bytes_out: int, seconds: float
) -> str:
    """Who, what and how much: everything in the end line but its reason."""
    return (
        f"{peer} {kind}: {requests} request(s), {_size(bytes_in)} in, {_size(bytes_out)} out,"
        f" {seconds:.2f} s"
    )


def format_address(address: Any) -> str:
    """A socket address as ``host:port`` (``[host]:port`` for IPv6)."""
    if isinstance(address, tuple) and len(address) >= 2:
        host, port = address[0], address[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return str(address)


def describe(exc: BaseException) -> str:
    """An exception in a few words, for a close reason."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _size(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{n / 1000:.1f} kB"
    return f"{n / 1_000_000:.1f} MB"
