"""The application interface: a handler takes a `Request` and returns a `Response`.

Built in notebook 07 (asyncio server), where the learner serves their own
application; notebook 00 already uses `default_app`.

This is what `gethy.server` calls for every request, and it is small on
purpose, so that a whole application fits in a notebook cell::

    def hello(request: Request) -> Response:
        return Response(200, [("content-type", "text/plain")], b"hello\\n")

A handler may be a plain function or an ``async def``. Returning a body of
bytes answers in one go; returning an *async iterable* of bytes streams the
body, chunk by chunk, and the server only asks for the next chunk when the
previous ones have (nearly) left, so memory stays bounded however large the
body is (RFC 9113 §5.2: flow control is per stream, so one slow client never
holds back the others).

`default_app` is the server you get from ``python -m gethy serve``: like the
asyncio + h2 server of the seed article, it answers with a JSON document
holding the request's headers and body, and ``/bytes/N`` returns N bytes for
large-body experiments.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]

from gethy.stream import Stream

__all__ = [
    "BYTES_CHUNK_SIZE",
    "MAX_BYTES",
    "Handler",
    "Request",
    "Response",
    "default_app",
]

HeaderInput = Iterable[tuple[str, str]] | Mapping[str, str]
Body = bytes | AsyncIterable[bytes]

#: Largest N that ``/bytes/N`` accepts: 1 GiB, enough for any flow-control experiment.
MAX_BYTES = 1 << 30
#: ``/bytes/N`` streams its body in chunks of this size (four default-size DATA frames).
BYTES_CHUNK_SIZE = 64 * 1024
_FILLER = bytes(i % 256 for i in range(BYTES_CHUNK_SIZE))


#: A complete request, as a handler sees it: the protocol's `Stream`. ``headers``
#: are exactly what the client sent, pseudo-headers (``:method``, ``:path``,
#: ``:scheme``, ``:authority``, RFC 9113 §8.3.1) first, names in lower case
#: (RFC 9113 §8.2); ``method`` and ``path`` read the pseudo-headers;
#: ``trailers`` are the trailing header fields (RFC 9113 §8.1), or None.
#: One idea, one type: the server hands the application the very `Stream`
#: that `HTTP2Protocol` reported, with no copy in between.
Request = Stream


@dataclass(frozen=True)
class Response:
    """What a handler returns: status, headers, body and optional trailers.

    ``body`` is bytes (sent whole, with a ``content-length``) or an async
    iterable of bytes chunks (streamed; add ``content-length`` yourself if you
    know it). ``trailers`` are sent after the body (RFC 9113 §8.1).
    """

    status: int = 200
    headers: HeaderInput = ()
    body: Body = b""
    trailers: HeaderInput | None = None

    def __post_init__(self) -> None:
        # Fail where the handler builds the response, with a message that says what to do.
        if not isinstance(self.status, int) or not 200 <= self.status <= 599:
            raise ValueError(f"Response.status must be an int from 200 to 599, not {self.status!r}")
        body = self.body
        if isinstance(body, bytearray | memoryview):
            object.__setattr__(self, "body", bytes(body))
        elif isinstance(body, str):
            raise TypeError(
                "Response.body must be bytes or an async iterable of bytes, not str: "
                "encode it, e.g. body=text.encode()"
            )
        elif not isinstance(body, bytes) and not hasattr(body, "__aiter__"):
            raise TypeError(
                "Response.body must be bytes or an async iterable of bytes, "
                f"not {type(body).__name__}"
            )

    @property
    def streaming(self) -> bool:
        """True when the body is an async iterable, sent chunk by chunk."""
        return not isinstance(self.body, bytes)


#: A handler: a plain or async callable taking a `Request` and returning a `Response`.
Handler = Callable[[Request], Response | Awaitable[Response]]


def default_app(request: Request) -> Response:
    """The default application: echo the request as JSON, or ``/bytes/N``.

    A plain function (not ``async``): the server then answers in the same
    step that received the request, with no task to schedule.
    """
    if request.path.startswith("/bytes/"):
        return _bytes_response(request.path[len("/bytes/") :].split("?", 1)[0])
    return _echo_response(request)


_JSON_HEADERS = (("content-type", "application/json"), ("server", "gethy"))


def _echo_response(request: Request) -> Response:
    """The seed article's answer: the request's headers and body, as JSON."""
    document: dict[str, str | dict[str, str]] = {"headers": dict(request.headers)}
    try:
        document["body"] = request.body.decode("utf-8")
    except UnicodeDecodeError:
        # JSON carries text only: binary bodies travel base64-encoded.
        document["body_base64"] = base64.b64encode(request.body).decode("ascii")
    if request.trailers is not None:
        document["trailers"] = dict(request.trailers)
    return Response(200, _JSON_HEADERS, _pretty_json(document).encode("ascii") + b"\n")


def _pretty_json(document: dict[str, str | dict[str, str]]) -> str:
    """``json.dumps(document, indent=4)`` for string values and dicts of strings, faster.

    With ``indent`` the json module falls back to its pure-Python encoder,
    which would cost more than all of HTTP/2 for a small request; the strings
    themselves still go through json's C escaper, so the bytes are identical.
    """
    quote = encode_basestring_ascii
    members = []
    for key, value in document.items():
        if isinstance(value, dict):
            inner = ",\n".join(f"        {quote(k)}: {quote(v)}" for k, v in value.items())
            value_text = f"{{\n{inner}\n    }}" if value else "{}"
        else:
            value_text = quote(value)
        members.append(f"    {quote(key)}: {value_text}")
    return "{\n" + ",\n".join(members) + "\n}"


def _bytes_response(size_text: str) -> Response:
    """``/bytes/N``: N bytes, streamed in chunks so memory stays bounded."""
    digits = size_text.isascii() and size_text.isdigit() and len(size_text) <= 10
    if not digits or int(size_text) > MAX_BYTES:
        message = f"/bytes/N needs a whole number N from 0 to {MAX_BYTES}, got {size_text!r}\n"
        headers = [("content-type", "text/plain; charset=utf-8"), ("server", "gethy")]
        return Response(400, headers, message.encode("utf-8"))
    size = int(size_text)
    headers = [
        ("content-type", "application/octet-stream"),
        ("content-length", str(size)),
        ("server", "gethy"),
    ]
    return Response(200, headers, _filler(size))


async def _filler(size: int) -> AsyncIterator[bytes]:
    """Yield `size` bytes in `BYTES_CHUNK_SIZE` pieces of one shared buffer (no copies)."""
    full, rest = divmod(size, BYTES_CHUNK_SIZE)
    for _ in range(full):
        yield _FILLER
    if rest:
        yield _FILLER[:rest]
