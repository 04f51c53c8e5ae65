"""`PriorityOutbound`: the outbound buffer, choosing whose turn it is by RFC 9218 priority.

Built in notebook 06 (multiplexing): `prioritize` and `turn_order`.

Notebook 04's `Outbound` shares the connection round robin: every stream that
waits sends one frame per round. RFC 9218 §10 recommends something sharper,
from what the client told us in each request's ``priority`` field
(`gethy.priority`):

* **urgency first**: a round serves only the most urgent level (lowest ``u``)
  among the streams that can send; a less urgent stream sends only while every
  more urgent one is done or waiting for window;
* **incremental streams of one urgency take turns** (round robin), since the
  client uses each as it arrives;
* **non-incremental streams of one urgency go one at a time, in stream order**:
  the client uses none of them before it is complete, so finishing one before
  starting the next makes every one but the last arrive sooner.

When both kinds wait at the same urgency, the non-incremental stream whose
time it is (the lowest stream id) takes turns with the incremental ones, so
neither kind can starve the other (§10 asks servers to avoid that).

A request *without* a ``priority`` field is scheduled as `UNSIGNALLED`: the
default urgency 3, but incremental. RFC 9218 §4 says a server SHOULD act as if
the defaults (u=3, not incremental) were given; gethy departs from that for the
incremental default only, on purpose: most HTTP/2 clients (curl, httpx, h2load)
never send the field, and serving their responses one at a time would let one
large download hold up every small response behind it (notebook 06 measures
it). RFC 9113 §5.3.2 reasons the same way about the old signals: a server "MAY
interpret the complete absence of signals as an indication that the client has
not implemented the feature". A request that does send ``priority``, even
``u=3``, gets the RFC's order.
"""

from __future__ import annotations

from gethy.outbound import Outbound
from gethy.priority import Priority

#: How a stream whose request carried no ``priority`` field is scheduled (see above).
UNSIGNALLED = Priority(urgency=3, incremental=True)


class PriorityOutbound(Outbound):
    """The outbound buffer of notebook 04, serving the most urgent streams first (RFC 9218)."""

    def __init__(self, conn) -> None:  # type: ignore[no-untyped-def]
        super().__init__(conn)
        self.priorities: dict[int, Priority] = {}  # streams whose request asked for one

    def prioritize(self, stream_id: int, priority: Priority | None) -> None:
        """Schedule `stream_id` by `priority` from now on (None: as `UNSIGNALLED`)."""
        if priority is None:
            self.priorities.pop(stream_id, None)
        else:
            self.priorities[stream_id] = priority

    def priority(self, stream_id: int) -> Priority:
        """How `stream_id` is scheduled."""
        return self.priorities.get(stream_id, UNSIGNALLED)

    def turn_order(self, blocked: set[int]) -> list[int]:
        """The streams that take a turn in the next round, in line order.

        Only the most urgent level among the waiting streams that are not
        `blocked`; of its non-incremental streams only the lowest stream id.
        One pass over the line, so a round costs what it did in notebook 04.
        """
        if not self.priorities:
            return super().turn_order(blocked)  # nobody asked: round robin, as before
        best = 8  # less urgent than any urgency
        level: list[tuple[int, bool]] = []  # (stream id, incremental) at urgency `best`
        first_in_order = 0  # the lowest non-incremental stream id at `best` (0: none)
        priorities = self.priorities
        for stream_id in self.queues:
            if stream_id in blocked:
                continue
            priority = priorities.get(stream_id, UNSIGNALLED)
            urgency, incremental = priority.urgency, priority.incremental
            if urgency > best:
                continue
            if urgency < best:
                best, level, first_in_order = urgency, [], 0
            level.append((stream_id, incremental))
            if not incremental and (not first_in_order or stream_id < first_in_order):
                first_in_order = stream_id
        return [sid for sid, incremental in level if incremental or sid == first_in_order]

    def drop(self, stream_id: int) -> None:
        """Forget a stream's queued output and its priority (reset, or its response left)."""
        super().drop(stream_id)
        self.priorities.pop(stream_id, None)

    def clear(self) -> None:
        super().clear()
        self.priorities.clear()
