"""Differences between two versions of a script, unified or side by side (Python difflib).

`unified` returns the text a reviewer knows from `diff -u`; `side_by_side` returns aligned rows
(left line, right line, and whether they are equal, changed, inserted or deleted) that the UI
renders in two columns and the CLI prints with `--side-by-side`. Both are pure functions.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One aligned row of a side-by-side diff (numbers are 1-based, None for no line)."""

    tag: str  # equal, replace, insert, delete
    left_no: int | None
    left: str
    right_no: int | None
    right: str


def content_hash(text: str) -> str:
    """The sha256 hex digest the database stores for a version's content."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def unified(
    old: str, new: str, old_label: str = "a", new_label: str = "b", context: int = 3
) -> str:
    """A unified diff from old to new ('' when they are equal)."""
    lines = difflib.unified_diff(
        old.splitlines(), new.splitlines(), old_label, new_label, n=context, lineterm=""
    )
    return "\n".join(lines)


def side_by_side(old: str, new: str) -> list[Row]:
    """Old and new aligned line by line."""
    a, b = old.splitlines(), new.splitlines()
    rows: list[Row] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        width = max(i2 - i1, j2 - j1)
        for k in range(width):
            li, rj = i1 + k, j1 + k
            has_left, has_right = li < i2, rj < j2
            rows.append(
                Row(
                    tag,
                    li + 1 if has_left else None,
                    a[li] if has_left else "",
                    rj + 1 if has_right else None,
                    b[rj] if has_right else "",
                )
            )
    return rows


def stats(old: str, new: str) -> tuple[int, int]:
    """Lines added and removed going from old to new."""
    added = removed = 0
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), n=0, lineterm=""):
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    return added, removed
