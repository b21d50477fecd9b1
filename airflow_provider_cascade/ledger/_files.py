"""Input files as users export them (Excel, a CRM, a warehouse query): any text encoding
when named, gzip by extension, physical line numbers in every error, a cap on a line's
length, and the file's identity, so a file that changes under a send is noticed."""

from __future__ import annotations

import codecs
import contextlib
import gzip
import io
import zlib
from collections.abc import Iterator
from typing import IO, Any

from ..gateway import CascadeValidationError
from ..gateway.codec import redact_url
from ._store import storage_path

READ_BLOCK = 1 << 20
MAX_LINE = 1 << 24
"""Characters a line may hold (16 Mi): a longer one is refused, not read whole."""
DEFAULT_ENCODING = "utf-8"
_UNDECODABLE = "\udfff"
"""What an undecodable byte becomes: a lone surrogate no strict decoder ever yields, found
on the line it is on (a decoder's own error cannot say which line that is)."""


def _mark(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return _UNDECODABLE, exc.end


codecs.register_error("cascade.undecodable", _mark)


def text_encoding(encoding: str | None, field: str = "encoding") -> str:
    """The codec to read with: UTF-8 reads with or without a BOM; an unknown name is a
    validation error, not a ``LookupError`` mid-send."""
    name = (encoding or DEFAULT_ENCODING).strip()
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise CascadeValidationError(
            field, f"{name!r} is not a text encoding Python knows (e.g. utf-8, cp1251, utf-16)"
        ) from None
    if info.name == "utf-8":
        return "utf-8-sig"
    return info.name


def is_gzip(url: str) -> bool:
    return url.lower().endswith(".gz")


def base_name(url: str) -> str:
    """The URL without ``.gz``: what the rest of the name says about the format."""
    return url[:-3] if is_gzip(url) else url


def open_text(url: str, encoding: str | None = None) -> IO[str]:
    """The file as text, a block at a time; undecodable bytes are marked, not raised, so the
    reader can name their line (:func:`numbered_lines`)."""
    codec = text_encoding(encoding)
    path = storage_path(url)
    if not path.exists():
        raise CascadeValidationError("file", f"{redact_url(url)} does not exist")
    binary: Any = io.BufferedReader(_RawReader(path.open("rb")), buffer_size=READ_BLOCK)
    if is_gzip(url):
        binary = gzip.GzipFile(fileobj=binary, mode="rb")
    return io.TextIOWrapper(binary, encoding=codec, errors="cascade.undecodable", newline="")


def numbered_lines(
    f: IO[str], url: str, field: str, encoding: str | None, max_line: int = MAX_LINE
) -> Iterator[tuple[int, str]]:
    """(physical line number, line) pairs of :func:`checked_lines`."""
    return enumerate(checked_lines(f, url, field, encoding, max_line), start=1)


def checked_lines(
    f: IO[str], url: str, field: str, encoding: str | None, max_line: int = MAX_LINE
) -> Iterator[str]:
    """The lines of an open file: a line ends at ``\\n``, ``\\r\\n`` or ``\\r``, as
    spreadsheets write them; blank lines and lines inside quotes count. A line that does not
    decode, is longer than ``max_line`` or sits in a broken gzip stream is a validation error
    naming the file and the line."""
    n = 0
    shown = redact_url(url)
    read = f.readline
    limit = max_line + 1
    while True:
        n += 1
        try:
            line = read(limit)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise CascadeValidationError(
                field, f"{shown} line {n}: the gzip data is damaged or cut short ({exc})"
            ) from None
        except UnicodeError as exc:  # a codec's own refusal (UTF-16 without a BOM)
            raise _undecodable(field, shown, n, encoding, f" ({exc})") from None
        if not line:
            return
        if _UNDECODABLE in line:
            raise _undecodable(field, shown, n, encoding)
        if len(line) > max_line:
            raise CascadeValidationError(
                field, f"{shown} line {n}: longer than {max_line:,} characters"
            )
        yield line


def _undecodable(
    field: str, shown: str, n: int, encoding: str | None, why: str = ""
) -> CascadeValidationError:
    name = text_encoding(encoding).replace("-sig", "")
    return CascadeValidationError(
        field,
        f"{shown} line {n}: does not decode as {name}{why}; give the file's encoding "
        "(encoding='cp1251' for Excel in Russian locales, 'utf-16' for Unicode text)",
    )


class _RawReader(io.RawIOBase):
    """The object-storage file under a C buffer: read a block at a time. Iterating the file
    object Airflow returns directly costs a wrapped attribute lookup per line (seconds for a
    million lines)."""

    def __init__(self, f: Any) -> None:
        super().__init__()
        self._f = f

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._f.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._f.close()
        super().close()


# -- identity -------------------------------------------------------------------------------
def file_identity(url: str) -> dict[str, Any]:
    """What tells this file from a changed copy: size and modification time, and the etag
    object storage gives (the URL as shown, credentials hidden)."""
    path = storage_path(url)
    with contextlib.suppress(Exception):  # fsspec caches listings: ask the store itself
        path.fs.invalidate_cache(path.path)
    try:
        info = path.fs.info(path.path)
    except FileNotFoundError:
        raise CascadeValidationError("file", f"{redact_url(url)} does not exist") from None
    out: dict[str, Any] = {"url": redact_url(url), "size": info.get("size")}
    for key in ("mtime", "LastModified", "last_modified", "ETag", "etag", "md5Hash", "generation"):
        value = info.get(key)
        if value is not None:
            out[key.lower()] = value if isinstance(value, (int, float)) else str(value)
    return out
