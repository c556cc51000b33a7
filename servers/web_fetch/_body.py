"""Reading a response body under a byte cap, decompressing it under the same cap, and decoding it.

The cap is on the bytes we keep after decompression, and on the bytes we read off
the wire, so neither a huge page nor a small compression bomb can make us hold
more than the cap. Reading stops as soon as the cap is passed; the connection is
then closed without draining the rest.
"""

from __future__ import annotations

import codecs
import re
import zlib
from dataclasses import dataclass

import httpx2

from servers.web_fetch._errors import FetchError

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Body:
    """The first bytes of a response body, decompressed."""

    data: bytes
    truncated: bool
    wire_bytes: int


class _Decompressor:
    """gzip or deflate, never producing more than asked for in one step."""

    def __init__(self, encoding: str) -> None:
        self._deflate = encoding == "deflate"
        self._inner = zlib.decompressobj(zlib.MAX_WBITS | 16 if encoding == "gzip" else zlib.MAX_WBITS)
        self._started = False

    def decompress(self, data: bytes, limit: int) -> tuple[bytes, bool]:
        """Up to `limit` bytes from `data`; the flag says output was left over (the cap was hit)."""
        try:
            out = self._inner.decompress(data, limit)
        except zlib.error:
            if not (self._deflate and not self._started):
                raise FetchError("the response body is corrupt (bad compressed data)") from None
            # Some servers send raw deflate without the zlib header that HTTP asks for.
            self._inner = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._inner.decompress(data, limit)
        self._started = True
        return out, bool(self._inner.unconsumed_tail)


async def read_capped(response: httpx2.Response, max_bytes: int) -> Body:
    """At most `max_bytes` of the (decompressed) body, and whether there was more.

    Raises:
        FetchError: the body uses a compression we do not decode, or is corrupt.
    """
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
        raise FetchError(f"the server sent the body with {encoding!r} compression, which is not supported")
    decompressor = None
    if encoding in ("gzip", "x-gzip", "deflate"):
        decompressor = _Decompressor("deflate" if encoding == "deflate" else "gzip")
    kept = bytearray()
    wire = 0
    async for chunk in response.aiter_raw():
        wire += len(chunk)
        room = max_bytes + 1 - len(kept)  # one byte past the cap tells us there was more
        if decompressor is None:
            kept += chunk[:room]
            left_over = len(chunk) > room
        else:
            out, left_over = decompressor.decompress(chunk, room)
            kept += out
        if left_over or len(kept) > max_bytes or wire > max_bytes:
            return Body(bytes(kept[:max_bytes]), truncated=True, wire_bytes=wire)
    return Body(bytes(kept), truncated=False, wire_bytes=wire)


def decode_text(data: bytes, content_type: str | None, *, is_html: bool) -> str:
    """The body as text: the declared charset, else a BOM or an HTML meta charset, else UTF-8."""
    charset = _declared_charset(content_type)
    if charset is None and data[:3] == codecs.BOM_UTF8:
        charset = "utf-8-sig"
    if charset is None and is_html:
        match = _META_CHARSET.search(data[:4096])
        charset = match.group(1).decode("ascii") if match else None
    try:
        codec = codecs.lookup(charset or "utf-8").name
    except LookupError:
        codec = "utf-8"
    # A byte cap can cut a multi-byte character in half; 'replace' keeps the rest readable.
    return data.decode(codec, errors="replace")


def _declared_charset(content_type: str | None) -> str | None:
    for parameter in (content_type or "").split(";")[1:]:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None
