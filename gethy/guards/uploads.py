"""The server's request-body budget: all connections together buffer at most so many bytes.

Built in notebook 08 (errors and attacks).

Each `HTTP2Protocol` bounds the request bodies buffered on its own connection
(``max_request_buffer``, answered 503) and flow control bounds each stream
(RFC 9113 §5.2), but nothing bounded the sum: four clients that each start
4 x 16 MiB uploads and never finish them held 330 MiB. `UploadBudget` keeps
a running total of `HTTP2Protocol.request_bytes` over a server's connections
(each connection reports the change of its own count, so it costs nothing per
connection) and, beyond `MAX_SERVER_REQUEST_BUFFER`, the connections that are
receiving request bodies stop being read until the total drops below it.

What a client sees beyond the cap: nothing at once. Its upload waits (we do
not read, so TCP flow control holds it back); it resumes as soon as other
uploads finish or are dropped. A client that never moves is ended by the
stall deadline (`gethy.guards.idle`): GOAWAY after ``idle_timeout`` seconds
without progress, which frees its bytes for the others.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

__all__ = ["MAX_SERVER_REQUEST_BUFFER", "UploadBudget"]

#: Default cap on request-body bytes buffered across all of one server's connections.
MAX_SERVER_REQUEST_BUFFER = 256 * 1024 * 1024


class UploadBudget:
    """A running total of buffered request bytes, and who waits for it to drop.

    A connection calls `change` with the change of its own
    `HTTP2Protocol.request_bytes`; while `over`, one that is receiving bodies
    pauses its reading and calls `hold` with a function that resumes it; the
    change that brings the total back within `limit` calls those functions.
    """

    def __init__(self, limit: int = MAX_SERVER_REQUEST_BUFFER) -> None:
        self.limit = limit
        self.total = 0
        self._held: dict[Hashable, Callable[[], None]] = {}

    @property
    def over(self) -> bool:
        """True while more request bytes are buffered than the limit allows."""
        return self.total > self.limit

    @property
    def held(self) -> int:
        """How many connections wait for the total to drop."""
        return len(self._held)

    def change(self, delta: int) -> None:
        """A connection's buffered request bytes changed by `delta`."""
        self.total += delta
        if delta < 0 and self._held and self.total <= self.limit:
            held, self._held = self._held, {}
            for resume in held.values():
                resume()

    def hold(self, key: Hashable, resume: Callable[[], None]) -> None:
        """`key` stopped reading; `resume` it once the total is within the limit."""
        self._held[key] = resume

    def forget(self, key: Hashable) -> None:
        """`key` is gone: nothing to resume."""
        self._held.pop(key, None)


class UploadMeter:
    """One connection's part in an `UploadBudget`: it reports changes, and waits when over.

    `update` takes the connection's `HTTP2Protocol.request_bytes`; `pause` and
    `resume` stop and restart reading the connection (`gethy.intake.ReadGate`).
    Without a budget (a connection outside any server) it only counts.
    """

    def __init__(
        self,
        budget: UploadBudget | None,
        pause: Callable[[], None],
        resume: Callable[[], None],
    ) -> None:
        self.budget = budget
        self.counted = 0  # request bytes already in the budget's total
        self._pause = pause
        self._resume = resume

    def update(self, buffered: int) -> None:
        """The connection buffers `buffered` request-body bytes now."""
        delta, self.counted = buffered - self.counted, buffered
        budget = self.budget
        if budget is None or not delta:
            return
        budget.change(delta)
        if delta > 0 and budget.over:
            self._pause()
            budget.hold(self, self._resume)

    def leave(self) -> None:
        """The connection is gone (call `update(0)` first): it waits for nothing."""
        if self.budget is not None:
            self.budget.forget(self)
