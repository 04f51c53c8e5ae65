"""gethy: build HTTP/2 yourself. A sans-IO server protocol on h2, for learning.

Not built in a notebook: the package's front door, importing what the notebooks build.

The public API, in one breath::

    protocol = HTTP2Protocol()            # queues the server preface
    events = protocol.receive(data)       # [RequestEvent(...), StreamResetEvent(...), ...]
    protocol.send(stream_id, 200, headers, body)         # a whole response, or stream it:
    protocol.send_headers(...); protocol.send_data(...); protocol.end_stream(...)
    transport.write(protocol.data_to_send())             # after every receive/send

Helpers for the course: `gethy.frames` (decode raw frames), `gethy.pair`
(client and server in memory), `gethy.recorder` (frames and windows over time),
`gethy.checks` (behaviour checks for any HTTP2Protocol-like class), `gethy.link`
(client and server on a simulated link, a virtual clock apart), `gethy.timeline`
(streams as lanes: which stream's frames left when).

A request's ``priority`` field (RFC 9218) is honoured: `gethy.priority` parses
it, `gethy.scheduler` sends the most urgent responses first.
"""

from gethy.core import CoreProtocol
from gethy.errors import GethyError, SendError
from gethy.events import (
    ConnectionTerminatedEvent,
    H2Event,
    RequestEvent,
    StreamResetEvent,
)
from gethy.protocol import HTTP2Protocol
from gethy.recorder import Recorder, plot_windows
from gethy.stream import Stream

__all__ = [
    "ConnectionTerminatedEvent",
    "CoreProtocol",
    "GethyError",
    "H2Event",
    "HTTP2Protocol",
    "Recorder",
    "RequestEvent",
    "SendError",
    "Stream",
    "StreamResetEvent",
    "plot_windows",
]

__version__ = "0.1.0"
