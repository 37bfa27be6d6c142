"""The binary COPY file format of table backups, read without a server.

`open_plain` opens a backup file refusing links and non-regular files (O_NOFOLLOW), `frames`
walks the binary COPY framing (header, tuples, trailer) so a backup can be counted, verified
and cut for a preview, and `digest_and_count` hashes and counts a file in one read.
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from petcare_dba.errors import ValidationError
from petcare_dba.messages import say

SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
CHUNK = 1 << 20


def open_plain(path: Path) -> BinaryIO:
    """Open a backup file for reading, refusing symlinks and anything but a regular file.

    O_NOFOLLOW makes the check and the open one step, so a file swapped for a symlink between
    a check and the read cannot redirect it (to the secret key, say).
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise ValidationError(
            say("msg.target.file_unopenable", name=path.name, problem=exc.strerror or str(exc)),
            hint=say("msg.target.file_unopenable.hint"),
        ) from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ValidationError(say("msg.target.file_not_regular", name=path.name))
    return os.fdopen(fd, "rb")


class _Buffer:
    """A read buffer over a stream that keeps the bytes of the tuple being parsed."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.buf = b""
        self.pos = 0
        self.start = 0

    def need(self, n: int) -> bool:
        while len(self.buf) - self.pos < n:
            more = self.stream.read(CHUNK)
            if not more:
                return False
            # Keep the current tuple's bytes: drop only what lies before its start.
            self.buf = self.buf[self.start :] + more
            self.pos -= self.start
            self.start = 0
        return True


def frames(stream: BinaryIO, limit: int | None = None) -> Iterator[bytes]:
    """The raw tuples of a binary COPY stream (framing only, values stay encoded).

    Raises ValidationError on a bad signature, a truncated tuple or a missing trailer.
    """
    head = stream.read(19)
    if len(head) < 19 or head[:11] != SIGNATURE:
        raise ValidationError(say("msg.target.not_copy_file"))
    stream.read(struct.unpack("!I", head[15:19])[0])
    b = _Buffer(stream)
    count = 0
    unpack_h = struct.Struct("!h").unpack_from
    unpack_i = struct.Struct("!i").unpack_from
    while limit is None or count < limit:
        b.start = b.pos
        if not b.need(2):
            raise ValidationError(say("msg.target.truncated"))
        nfields = unpack_h(b.buf, b.pos)[0]
        b.pos += 2
        if nfields == -1:
            return
        for _ in range(nfields):
            if not b.need(4):
                raise ValidationError(say("msg.target.truncated_row"))
            size = unpack_i(b.buf, b.pos)[0]
            b.pos += 4
            if size > 0:
                if not b.need(size):
                    raise ValidationError(say("msg.target.truncated_value"))
                b.pos += size
        count += 1
        yield b.buf[b.start : b.pos]


class _Hashing:
    """A read-through stream that hashes every byte read from it."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.digest = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self.stream.read(n)
        self.digest.update(data)
        return data


def digest_and_count(path: Path) -> tuple[str, int]:
    """The file's sha256 and its tuple count, in one read (framing checked to the trailer)."""
    with open_plain(path) as f:
        hashing = _Hashing(f)
        rows = 0
        for _ in frames(hashing):  # type: ignore[arg-type]
            rows += 1
        while hashing.read(CHUNK):
            pass
    return hashing.digest.hexdigest(), rows


def count_rows(path: Path) -> int:
    """Tuples in a binary COPY file (checks the framing to the trailer)."""
    with open_plain(path) as f:
        return sum(1 for _ in frames(f))
