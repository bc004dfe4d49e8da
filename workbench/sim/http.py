"""Just enough HTTP/1.1 over asyncio streams for the simulator.

Written by hand rather than on a framework because the fault modes need byte-level control:
a stream cut inside its chunked body, an SSE event split inside a UTF-8 character, response
headers delayed, a connection that stays open and silent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from email.utils import formatdate

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024

REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}

LAST_CHUNK = b"0\r\n\r\n"


class BadHttpRequest(Exception):
    """The bytes on the connection are not an HTTP/1.x request we can answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(slots=True)
class HttpRequest:
    method: str
    target: str
    version: str
    headers: dict[str, str]  # names lower-cased; repeated headers joined with ", "
    body: bytes

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        tokens = {token.strip() for token in connection.split(",")}
        if self.version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens


async def read_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None = None
) -> HttpRequest | None:
    """The next request on the connection, or None when the client closed it between requests.

    With ``writer``, a client that sent ``Expect: 100-continue`` (curl does, for bodies over
    1 KiB) is told to go on at once instead of waiting a second for the body to be wanted.
    """
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as error:
        if not error.partial.strip():
            return None
        raise BadHttpRequest("connection closed in the middle of the request head") from None
    except asyncio.LimitOverrunError:
        raise BadHttpRequest("request head too large", 413) from None
    lines = head.decode("latin-1").lstrip("\r\n").split("\r\n")
    try:
        method, target, version = lines[0].split(" ")
    except ValueError:
        raise BadHttpRequest(f"malformed request line {lines[0]!r}") from None
    if not version.startswith("HTTP/1."):
        raise BadHttpRequest(f"unsupported protocol {version!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise BadHttpRequest(f"malformed header line {line!r}")
        key = name.lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    if writer is not None and headers.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    body = await _read_body(reader, headers)
    return HttpRequest(method, target, version, headers, body)


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    try:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return await _read_chunked(reader)
        length_text = headers.get("content-length")
        if length_text is None:
            return b""
        try:
            length = int(length_text)
        except ValueError:
            raise BadHttpRequest(f"bad content-length {length_text!r}") from None
        if length < 0:
            raise BadHttpRequest(f"bad content-length {length_text!r}")
        if length > MAX_BODY_BYTES:
            raise BadHttpRequest("request body too large", 413)
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError:
        raise BadHttpRequest("connection closed in the middle of the request body") from None


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size_line = await reader.readuntil(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise BadHttpRequest("malformed chunk size") from None
        if size == 0:
            # Skip trailers up to the blank line that ends the body.
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass
            return bytes(body)
        if len(body) + size > MAX_BODY_BYTES:
            raise BadHttpRequest("request body too large", 413)
        body += await reader.readexactly(size)
        if await reader.readexactly(2) != b"\r\n":
            raise BadHttpRequest("malformed chunk terminator")


def response_head(status: int, headers: list[tuple[str, str]]) -> bytes:
    """Status line and headers (Date and Server added), ending with the blank line."""
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}"]
    lines.append(f"date: {formatdate(usegmt=True)}")
    lines.append("server: workbench-sim")
    lines.extend(f"{name}: {value}" for name, value in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def encode_chunk(data: bytes) -> bytes:
    """One piece of a chunked body."""
    return b"%x\r\n%s\r\n" % (len(data), data)
