"""The checks of notebook 06 (multiplexing): RFC 9218 priorities in the learner's classes.

Built in notebook 06: each check cell calls one ``check_*`` function (and, hidden,
one ``hidden_*``) on the learner's class.

* Exercise 6.1, ``request_priority(headers)``: the ``priority`` field read as
  RFC 9218 §4 and §5 say, on the learner's protocol.
* Exercise 6.2, ``turn_order(blocked)``: whose turn it is, on the learner's
  outbound buffer: most urgent first, incremental round robin, non-incremental
  one at a time in stream order (§10).
* Exercise 6.3, ``_prioritize`` and ``_forget``: the two plugged into the
  learner's protocol, which must still pass gethy's "send" checks. The check runs
  it with gethy's `PriorityOutbound` in place of the learner's Exercise 6.2
  buffer, so that one mistake costs one exercise.
"""

from __future__ import annotations

from typing import Any

from gethy.checks import pattern, run_checks
from gethy.exercises import CheckFailed, attempt, expect
from gethy.outbound import Outbound, Pending
from gethy.pair import InMemoryPair
from gethy.priority import Priority
from gethy.scheduler import PriorityOutbound

P = Priority

# (the request's header fields, the Priority expected; None: it asked for none)
_VISIBLE_FIELDS: list[tuple[list[tuple[str, str]], Priority | None]] = [
    ([("accept", "*/*")], None),
    ([("priority", "u=0")], P(0, False)),
    ([("priority", "u=5, i")], P(5, True)),
    ([("priority", "i")], P(3, True)),
    ([("priority", "i=?0, u=7")], P(7, False)),
    ([("priority", "u=1, u=6")], P(6, False)),
    ([("priority", "u=4;x=1, foo=bar, i")], P(4, True)),
    ([("priority", "u=9")], P(3, False)),
    ([("priority", "u=2.5, i")], P(3, True)),
    ([("priority", 'u="1"')], P(3, False)),
    ([("priority", "i=1")], P(3, False)),
    ([("priority", "u=1,,i")], P(3, False)),
]

_HIDDEN_FIELDS: list[tuple[list[tuple[str, str]], Priority | None]] = [
    ([("priority", "u=1"), ("accept", "*/*"), ("priority", "i")], P(1, True)),  # one list
    ([("priority", "u=-1, i=?1")], P(3, True)),
    ([("priority", "  u=2 ,\ti  ")], P(2, True)),
    ([("priority", "u=1,")], P(3, False)),
    ([("priority", "U=1")], P(3, False)),
    ([("priority", "u = 1")], P(3, False)),
    ([("priority", "u=01")], P(1, False)),
    ([("priority", "")], P(3, False)),
    ([("priority", "u=?1")], P(3, False)),
    ([("priority", "i;q=1, u=6;y")], P(6, True)),
]


def _fields_cases(cls: type, cases: list[tuple[list[tuple[str, str]], Priority | None]]) -> None:
    protocol = cls()
    for headers, expected in cases:
        call = f"request_priority({headers})"
        got = attempt(call, lambda headers=headers: protocol.request_priority(headers))
        expect(call, expected, got)


def check_request_priority(cls: type) -> None:
    """Exercise 6.1, visible: the RFC's examples, defaults, and what must be ignored."""
    _fields_cases(cls, _VISIBLE_FIELDS)


def hidden_request_priority(cls: type) -> None:
    """Exercise 6.1, hidden: field lines joined, whitespace, and more malformed fields."""
    _fields_cases(cls, _HIDDEN_FIELDS)


# ----------------------------------------------------------------- Exercise 6.2


def _buffer(cls: type, streams: dict[int, Priority | None]) -> Any:
    """The learner's buffer with data waiting on each stream, in this line order."""
    outbound = cls(None)  # turn_order needs no connection
    for stream_id, priority in streams.items():
        outbound.queues[stream_id] = Pending(size=1)
        if priority is not None:
            outbound.prioritize(stream_id, priority)
    return outbound


def _describe(streams: dict[int, Priority | None]) -> str:
    def one(priority: Priority | None) -> str:
        if priority is None:
            return "no priority"
        return f"u={priority.urgency}" + (", i" if priority.incremental else "")

    return "{" + ", ".join(f"{sid}: {one(p)}" for sid, p in streams.items()) + "}"


def _turn_cases(cls: type, cases: list[tuple[dict, set[int], list[int]]]) -> None:
    for streams, blocked, expected in cases:
        call = f"turn_order({blocked or 'set()'}) with streams waiting in line {_describe(streams)}"
        got = attempt(call, lambda s=streams, b=blocked: _buffer(cls, s).turn_order(set(b)))
        expect(call, expected, list(got))


def check_turn_order(cls: type) -> None:
    """Exercise 6.2, visible: urgency first; incremental all; non-incremental the first."""
    _turn_cases(
        cls,
        [
            ({1: P(7), 3: P(0, True), 5: P(0, True)}, set(), [3, 5]),
            ({1: P(7), 3: P(0, True), 5: P(0, True)}, {3, 5}, [1]),
            ({5: P(2), 3: P(2), 7: P(2)}, set(), [3]),
            ({5: P(2), 3: P(2), 7: P(2)}, {3}, [5]),
            ({3: P(1, True), 5: P(1), 7: P(1), 9: P(1, True)}, set(), [3, 5, 9]),
            ({5: None, 1: None, 3: None}, set(), [5, 1, 3]),
            ({1: P(0)}, {1}, []),
        ],
    )


def hidden_turn_order(cls: type) -> None:
    """Exercise 6.2, hidden: unsignalled streams are u=3 incremental; line order kept."""
    _turn_cases(
        cls,
        [
            ({1: None, 3: P(3), 5: P(4, True)}, set(), [1, 3]),
            ({1: None, 3: P(2, True)}, set(), [3]),
            ({9: P(6, True), 3: P(6, True), 5: P(6, True)}, {3}, [9, 5]),
            ({7: P(5), 9: P(5, True), 3: P(5)}, set(), [9, 3]),
        ],
    )


# ----------------------------------------------------------------- Exercise 6.3


class _ReferenceBuffer(PriorityOutbound):
    """gethy's scheduler with the notebook's bookkeeping: `drop` keeps the priority.

    In the notebook, forgetting a stream's priority is the protocol's `_forget`
    (Exercise 6.3), not the buffer's, so this buffer leaves it to the protocol.
    """

    def drop(self, stream_id: int) -> None:
        Outbound.drop(self, stream_id)

    def prioritize(self, stream_id: int, priority: Priority | None) -> None:
        """The notebook's `MyPriorityOutbound.prioritize` takes a `Priority`, never None."""
        if not isinstance(priority, Priority):
            raise CheckFailed(
                f"_prioritize gave stream {stream_id} the priority {priority!r}: a request "
                "without a priority field (request_priority returns None) keeps the default, "
                "so only call prioritize with a Priority"
            )
        super().prioritize(stream_id, priority)


def _with_reference_buffer(cls: type) -> type:
    """The learner's protocol class, its outbound buffer replaced by gethy's scheduler."""

    def __init__(self: Any) -> None:
        cls.__init__(self)
        self.outbound = _ReferenceBuffer(self.http2_connection)

    return type(cls.__name__, (cls,), {"__init__": __init__})


def _data_order(cls: type, requests: list[tuple[str, int, str | None]]) -> tuple[Any, list[int]]:
    sizes = {path: size for path, size, _ in requests}
    pair = InMemoryPair(cls(), app=lambda request: (200, [], pattern(sizes[request.path])))
    for path, _, priority in requests:
        pair.request("GET", path, [("priority", priority)] if priority else [])
    attempt(f"requests {requests}, answered by {cls.__name__}", pair.run)
    return pair, [frame.stream_id for frame in pair.server_frames_of("DATA")]


def check_plugged(cls: type) -> Any:
    """Exercise 6.3, visible: priorities honoured end to end; the send checks still pass."""
    cls = _with_reference_buffer(cls)
    requests = [("/update", 200_000, "u=7"), ("/style.css", 40_000, "u=0")]
    _, order = _data_order(cls, requests)
    what = f"{requests} (path, body size, priority field), requested at once: DATA frames by stream"
    if order[:4] != [1, 3, 3, 3]:
        raise CheckFailed(
            f"{what}:\n  expected stream 1's first frame (sent at once), then all three of "
            f"stream 3 (u=0) before stream 1 (u=7) sends again\n  got      {order}"
        )
    requests = [("/a", 40_000, "u=2"), ("/b", 40_000, "u=2"), ("/c", 40_000, "u=2")]
    _, order = _data_order(cls, requests)
    expect(f"{requests}: DATA frames by stream", [1, 1, 1, 3, 3, 3, 5, 5, 5], order)
    requests = [("/plain", 20_000, None), ("/urgent", 20_000, "u=0")]  # curl sends no field
    _, order = _data_order(cls, requests)
    expect(f"{requests} (the first without a priority field): DATA frames by stream", 3, order[1])
    report = run_checks(cls, parts=["send"])
    if not report.passed:
        raise CheckFailed(f"{cls.__name__} no longer passes gethy's send checks:\n{report}")
    return report


def hidden_plugged(cls: type) -> None:
    """Exercise 6.3, hidden: no priority kept for streams that are gone."""
    cls = _with_reference_buffer(cls)
    requests = [(f"/{n}", 20_000, f"u={n % 8}") for n in range(12)]
    pair, _ = _data_order(cls, requests)
    left = dict(pair.server.outbound.priorities)
    expect(f"after {len(requests)} responses with priorities, outbound.priorities", {}, left)
    pair = InMemoryPair(cls(), auto_ack=False)
    stream_id = pair.request("GET", "/", [("priority", "u=1")])
    pair.run()
    pair.reset(stream_id)
    pair.run()
    left = dict(pair.server.outbound.priorities)
    expect("a request with priority u=1, reset by the client: outbound.priorities", {}, left)
