"""Header fields between the application and h2: checked going out, decoded coming in.

Not built in a notebook: notebooks 03 and 04 let h2 check and decode fields;
`HTTP2Protocol` switches h2's checks off (so that a malformed request costs only
its stream, RFC 9113 §8.1.1) and does the work here instead.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping

from gethy.errors import SendError
from gethy.messages import field_problem
from gethy.stream import Headers

HeaderInput = Iterable[tuple[str, str]] | Mapping[str, str]

_FIELD_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-z]+")  # a token, lower case (RFC 9113 §8.2)


class CheckedFields(list[tuple[str, str]]):
    """Fields `header_list` has checked already: passing them again costs nothing."""


def header_list(headers: HeaderInput) -> CheckedFields:
    """Application headers or trailers as HTTP/2 wants them, each field checked once."""
    if type(headers) is CheckedFields:
        return headers
    items = headers.items() if isinstance(headers, Mapping) else headers
    return CheckedFields([checked_field(str(name), str(value)) for name, value in items])


@functools.lru_cache(maxsize=4096)
def checked_field(name: str, value: str) -> tuple[str, str]:
    """One field, lower-cased and checked (cached: responses repeat their fields).

    Names are lower-cased (RFC 9113 §8.2.1). A name that is not a token, a
    pseudo-header (gethy sets ``:status`` itself, and trailers never carry
    one, §8.1), a connection-specific field (§8.2.2), or a value with CR, LF,
    NUL or surrounding white space is the application's mistake: SendError.
    """
    name = name.lower()
    if name.startswith(":"):
        raise SendError(f"{name!r}: gethy sets the response pseudo-headers itself (§8.3.2)")
    if not _FIELD_NAME.fullmatch(name):
        raise SendError(f"invalid header name {name!r} (RFC 9113 §8.2.1)")
    problem = field_problem(name, value)  # the same rules as for requests
    if problem is not None:
        raise SendError(f"invalid header {name!r}: {problem}")
    return name, value


def decode_fields(fields: Iterable[tuple[bytes, bytes]]) -> Headers:
    """Header fields from h2 (bytes) as text.

    Values are UTF-8 when they are valid UTF-8, else ISO-8859-1: RFC 9110
    §5.5 still allows bytes 0x80-0xFF ("obs-text"), and a request carrying
    them is not an error. Names are tokens, so ASCII (h2 checked them).
    """
    result = []
    for name, value in fields:
        try:
            text = value.decode()
        except UnicodeDecodeError:
            text = value.decode("latin-1")
        result.append((name.decode("latin-1"), text))
    return tuple(result)


def content_length(headers: Headers) -> int | None:
    """The request's declared ``content-length`` (RFC 9110 §8.6), or None."""
    for name, value in headers:
        if name == "content-length":
            return int(value) if value.isascii() and value.isdigit() else None  # 1*DIGIT
    return None
