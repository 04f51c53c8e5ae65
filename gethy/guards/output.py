"""The output budget: a client that asks and never reads cannot make us buffer more.

Built in notebook 08 (errors and attacks).

Flow control bounds what a client *sends* (RFC 9113 §5.2), and a client's
windows bound what we send, but a client may open huge windows and then not
read: responses then wait in gethy's buffer. Each streamed body waits once
about `gethy.responder.STREAM_HIGH_WATER` bytes of it are unsent, but many
small whole responses could still pile up. So while more than `OUTPUT_BUDGET`
response bytes wait on one connection, new requests get a short ``503
Service Unavailable`` with ``retry-after`` (RFC 9110 §15.6.4, §10.2.3)
instead of the application's answer.
"""

from __future__ import annotations

__all__ = ["BUSY_BODY", "BUSY_HEADERS", "BUSY_STATUS", "OUTPUT_BUDGET", "OutputBudget"]

#: New requests are answered 503 while more response bytes than this wait for one client.
OUTPUT_BUDGET = 32 * 1024 * 1024

BUSY_STATUS = 503
BUSY_HEADERS = (("retry-after", "1"),)
BUSY_BODY = b"server busy: earlier responses are still waiting for you to read them\n"


class OutputBudget:
    """Whether a connection may take on one more response."""

    def __init__(self, limit: int = OUTPUT_BUDGET) -> None:
        self.limit = limit

    def admits(self, buffered: int) -> bool:
        """True while `buffered` (`HTTP2Protocol.buffered()`) is within the budget."""
        return buffered <= self.limit
