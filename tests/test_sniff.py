"""gethy.sniff: telling the HTTP/2 preface from an HTTP/1.x request line, without a socket."""

from __future__ import annotations

import pytest

from gethy.frames import CONNECTION_PREFACE
from gethy.sniff import SNIFF_LIMIT, Sniffed, Sniffer, refuse_http1


def feed_all(pieces: list[bytes]) -> list[tuple[Sniffed, bytes]]:
    sniffer = Sniffer()
    return [sniffer.feed(piece) for piece in pieces]


def test_the_preface_in_pieces_waits_then_hands_over_every_byte() -> None:
    data = CONNECTION_PREFACE + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
    results = feed_all([data[:3], data[3:20], data[20:]])
    assert [sniffed for sniffed, _ in results] == [Sniffed.MORE, Sniffed.MORE, Sniffed.HTTP2]
    assert results[-1][1] == data  # nothing lost to the look


def test_an_http1_request_line_in_pieces() -> None:
    results = feed_all([b"GE", b"T / HTTP", b"/1.1\r\nHost: x\r\n\r\n"])
    assert [sniffed for sniffed, _ in results] == [Sniffed.MORE, Sniffed.MORE, Sniffed.HTTP1]
    assert results[-1][1].startswith(b"GET / HTTP/1.1\r\n")


@pytest.mark.parametrize(
    "data",
    [
        b"garbage that is not a preface\r\n",  # a line, but no request line
        b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n",  # a wrong preface: HTTP2Protocol answers GOAWAY
        b"x" * SNIFF_LIMIT,  # no line end within the limit
    ],
)
def test_anything_else_goes_to_the_protocol(data: bytes) -> None:
    assert Sniffer().feed(data) == (Sniffed.HTTP2, data)


def test_refusal_is_readable_http11_with_a_hint() -> None:
    refusal = refuse_http1(
        b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n", "http://127.0.0.1:8000/", tls=False
    )
    head, body = refusal.response.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 505 ")
    assert f"Content-Length: {len(body)}".encode() in head
    assert b"curl --http2-prior-knowledge http://127.0.0.1:8000/index.html" in body
    assert refusal.request_line == "GET /index.html HTTP/1.1"
    assert refusal.reason == "an HTTP/1.x request (GET /index.html) answered with 505"


def test_refusal_on_tls_names_alpn_and_never_echoes_odd_targets() -> None:
    refusal = refuse_http1(b"GET http://evil/\x01 HTTP/1.1\r\n", "https://h:1/", tls=True)
    assert b"ALPN" in refusal.response
    assert b"curl -k --http2 https://h:1/\n" in refusal.response
    assert "(GET /)" in refusal.reason
