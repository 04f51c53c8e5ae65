"""Seeded bugs: small broken variants of `CoreProtocol`, for testing the tests.

Built in notebook 09 (testing sans-IO). A test suite is only as good as the
bugs it catches. Each class here is `CoreProtocol` with *one* mistake a
learner might well make in notebooks 03 and 04; a good test passes on
`CoreProtocol` and fails on the mutant it targets (mutation testing). Notebook
09 runs gethy's own behaviour checks against all of them, and grades the
learner's tests by which of them they catch (`gethy.exercises.ch09`).

Every mutant's docstring says the bug in a learner's words; `MUTANTS` lists
them by name. Section numbers are RFC 9113's.
"""

from __future__ import annotations

import h2.events

from gethy.core import CoreProtocol, StreamState
from gethy.events import H2Event
from gethy.outbound import Outbound


class NeverAcknowledges(CoreProtocol):
    """Keeps each request body but never acknowledges received DATA (§6.9).

    The original gethy article's flaw: the client's send windows never reopen,
    so an upload larger than 65,535 bytes stalls and never reaches the application.
    """

    def _data_received(self, event: h2.events.DataReceived) -> list[H2Event]:
        stream = self.streams.get(event.stream_id)
        if stream is None:
            return []
        stream.buffered_data.append(event.data)
        stream.received += len(event.data)
        return self._stream_ended(stream) if event.stream_ended else []


class AcknowledgesUnpadded(CoreProtocol):
    """Acknowledges len(event.data), not event.flow_controlled_length: padding leaks.

    Padding counts against flow control (§6.1), so each padded DATA frame leaks
    its padding from the client's windows; unpadded uploads work perfectly.
    """

    def _data_received(self, event: h2.events.DataReceived) -> list[H2Event]:
        self.http2_connection.acknowledge_received_data(len(event.data), event.stream_id)
        stream = self.streams.get(event.stream_id)
        if stream is None:
            return []
        stream.buffered_data.append(event.data)
        stream.received += len(event.data)
        return self._stream_ended(stream) if event.stream_ended else []


class DropsTrailers(CoreProtocol):
    """Ends the request when its trailers arrive, but forgets to keep them (§8.1)."""

    def _trailers_received(self, event: h2.events.TrailersReceived) -> list[H2Event]:
        stream = self.streams.get(event.stream_id)
        if stream is None:
            return []
        return self._stream_ended(stream)


class NoServerPreface(CoreProtocol):
    """Never calls initiate_connection(): our SETTINGS never leave (§3.4).

    h2 still answers the client's SETTINGS with an ACK and serves requests, so
    a client that does not insist on the server preface seems happy; RFC 9113
    says it MUST treat its absence as a connection error.
    """

    def __init__(self) -> None:
        self.http2_connection = self._new_connection()  # no initiate_connection()
        self.streams: dict[int, StreamState] = {}
        self.outbound = Outbound(self.http2_connection)


class IgnoresResets(CoreProtocol):
    """Does nothing on RST_STREAM: the application is never told (§6.4).

    The request's buffered body and its queued response stay held until the
    connection ends, and a response to it makes h2 raise StreamClosedError.
    """

    def _stream_reset(self, event: h2.events.StreamReset) -> list[H2Event]:
        return []


class ReturnsFirstEvent(CoreProtocol):
    """receive() returns at the first h2 event that gives the application something.

    h2 has already parsed every frame of the read, so the rest of its events are
    lost. Fed a byte at a time, each read holds at most one complete request
    and all is well; two requests in one read, and the second one vanishes.
    """

    def receive(self, data: bytes) -> list[H2Event]:
        for event in self.http2_connection.receive_data(data):
            events = self._handle_event(event)
            if events:
                return events
        return []


class LosesLastByte(CoreProtocol):
    """Cuts response bodies into 16,384-byte pieces itself, with an off-by-one.

    ``range(0, len(data) - 1, size)`` skips the last piece when it is one byte
    long: a body of 1 byte, or of 16,385, arrives one byte short. A body of
    5 bytes or 1 MiB arrives whole, so examples picked by hand rarely see it.
    """

    def _send_body(
        self,
        stream: StreamState,
        data: bytes,
        end_stream: bool,
        trailers: tuple[tuple[str, str], ...] | None = None,
    ) -> None:
        size = 16_384
        for start in range(0, len(data) - 1, size):
            super()._send_body(stream, data[start : start + size], False)
        super()._send_body(stream, b"", end_stream, trailers)


#: Every mutant, by name, in the order notebook 09 shows them.
MUTANTS: dict[str, type[CoreProtocol]] = {
    cls.__name__: cls
    for cls in (
        NeverAcknowledges,
        AcknowledgesUnpadded,
        DropsTrailers,
        NoServerPreface,
        IgnoresResets,
        ReturnsFirstEvent,
        LosesLastByte,
    )
}


def bug(mutant: type) -> str:
    """The first line of a mutant's docstring: its bug in a few words."""
    return (mutant.__doc__ or mutant.__name__).strip().split("\n")[0]
