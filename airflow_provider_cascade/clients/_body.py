"""Reading an answer's body, the same way in both clients: at most ``MAX_BODY`` bytes after
decompression whatever the HTTP status, gzip and deflate decoded here in bounded steps (a
small compressed body cannot expand past the cap in memory)."""

from __future__ import annotations

import zlib
from collections.abc import Mapping

from ..gateway import CascadeResponseError, defaults

ACCEPT_ENCODING = "gzip, deflate"
CHUNK = 64 * 1024


class BadEncoding(Exception):
    """The body's Content-Encoding cannot be decoded (classified as ``BAD_ENCODING``)."""


class BodyReader:
    def __init__(self, headers: Mapping[str, str], limit: int = defaults.MAX_BODY) -> None:
        self.limit = limit
        self.size = 0
        self.parts: list[bytes] = []
        encoding = next((v for k, v in headers.items() if k.lower() == "content-encoding"), "")
        encoding = encoding.strip().lower()
        self._inflate: zlib._Decompress | None
        if encoding in ("", "identity"):
            self._inflate = None
        elif encoding in ("gzip", "x-gzip"):
            self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._inflate = zlib.decompressobj()
        else:
            # the header's value is not quoted: whatever a server writes there (an echoed
            # credential included) stays out of error texts
            raise BadEncoding("unsupported content encoding (neither gzip, deflate nor identity)")
        self._raw_deflate_fallback = encoding == "deflate"
        self._fed = False

    def feed(self, raw: bytes) -> None:
        if self._inflate is None:
            self._keep(raw)
            return
        data = raw
        while data:
            try:
                out = self._inflate.decompress(data, self.limit - self.size + 1)
            except zlib.error:
                if self._raw_deflate_fallback and not self._fed:
                    # "deflate" is sometimes raw deflate without the zlib header
                    self._raw_deflate_fallback = False
                    self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise BadEncoding("corrupt compressed body") from None
            self._fed = True
            self._keep(out)
            data = self._inflate.unconsumed_tail
            if self._inflate.eof:
                break

    def _keep(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise CascadeResponseError(f"response larger than {self.limit} bytes")
        if data:
            self.parts.append(data)

    def body(self) -> bytes:
        if self._inflate is not None and self._fed and not self._inflate.eof:
            raise BadEncoding("compressed body ends early")
        return b"".join(self.parts)
