"""One rendering rule for outside text: shown as text, never as Markdown that fetches or links.

Text from outside the app's own strings — database catalog comments, statement text from
pg_stat_statements / pg_stat_activity, database error messages, model answers, file contents and
other users' names and messages — reaches Streamlit elements that render Markdown (st.markdown,
st.caption, st.info, expander and tab labels...). A Markdown image there makes the browser fetch
its URL as soon as the page is drawn (`![x](/auth/logout)` signed out everyone who opened a
table), so every such value goes through one of these functions (U3; a convention test in
tests/test_conventions.py fails when a non-literal reaches a Markdown call without them):

- `plain(value)`: one line of text with every ASCII punctuation character backslash-escaped
  (CommonMark renders an escaped character literally, so no image, link, autolink, HTML, emphasis,
  Streamlit colour/icon directive or LaTeX can form) and control characters (CR, LF, tab...)
  turned into spaces, so a name cannot fake a second line ("imported … by admin").
- `block(value)`: multi-line text (statement text, error details) drawn with st.code, which
  renders nothing.
- `show_answer(value)`: model answers keep readable formatting — headings, lists, emphasis,
  code blocks (drawn with st.code) and inline code — but outside code every character that can
  start an image, a link, an autolink, raw HTML or a fence (`! [ ] < > : @ $ ~ \\`) is
  escaped, so `![x](url)` shows as that text.
  Escaping only those characters (rather than everything) is what keeps the formatting; the
  choice is safe because CommonMark/GFM forms no image or link without one of them
  (`www.` autolinks need `.` after `www`, escaped separately). Links whose URL starts with a
  prefix in the `link_allowlist` setting (https only) stay clickable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import streamlit as st

_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u0085]+")
_ANSWER_SPECIAL = re.compile(r"([\\!\[\]<>:@$~])")
_WWW = re.compile(r"(?i)\b(www)\.")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")
_LINK = re.compile(r"(?<!!)\[([^\[\]\n]{1,200})\]\((https://[^\s()<>\"']{1,500})\)")
MAX_CHARS = 100_000


def plain(value: object) -> str:
    """One line of outside text that Streamlit's Markdown shows literally."""
    text = "" if value is None else str(value)
    text = _CONTROL.sub(" ", text[:MAX_CHARS])
    return _PUNCT.sub(r"\\\1", text)


def trusted(value: str) -> str:
    """Mark Markdown the app ships itself (lint docs, catalogue strings) as safe to render."""
    return value


def as_read(markdown: str) -> str:
    """What a reader sees of escaped text: the backslash escapes removed (for tests)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


def plain_all(values: Iterable[object], sep: str = ", ") -> str:
    """Several outside values joined (each escaped; the separator is the app's own)."""
    return sep.join(plain(v) for v in values)


def block(value: object, *, language: str | None = None) -> None:
    """Multi-line outside text (statement text, error details), drawn without Markdown."""
    st.code("" if value is None else str(value)[:MAX_CHARS], language=language, wrap_lines=True)


def allowlist(raw: str) -> tuple[str, ...]:
    """The `link_allowlist` setting as https:// prefixes (anything else is ignored)."""
    prefixes = (p.strip() for p in (raw or "").split(","))
    # A bare host prefix would also admit https://allowed.example.evil.test: require a path.
    return tuple(p for p in prefixes if p.startswith("https://") and p.count("/") >= 3)


def _escape_prose(text: str, allowed: tuple[str, ...]) -> str:
    """Escape link/image/HTML starters in prose; keep allow-listed https links."""
    kept: list[str] = []

    def keep(match: re.Match[str]) -> str:
        url = match.group(2)
        if not any(url.startswith(p) for p in allowed):
            return match.group(0)
        kept.append(f"[{plain(match.group(1))}]({url})")
        return f"\x00{len(kept) - 1}\x00"

    text = _LINK.sub(keep, text) if allowed else text
    text = _ANSWER_SPECIAL.sub(r"\\\1", text)
    text = _WWW.sub(r"\1\\.", text)
    text = re.sub(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]", " ", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], text)


def _escape_line(line: str, allowed: tuple[str, ...]) -> str:
    """Escape a prose line, leaving complete inline code spans as they are."""
    out: list[str] = []
    pos = 0
    for match in _CODE_SPAN.finditer(line):
        out.append(_escape_prose(line[pos : match.start()], allowed).replace("`", "\\`"))
        out.append(match.group(0))
        pos = match.end()
    out.append(_escape_prose(line[pos:], allowed).replace("`", "\\`"))
    return "".join(out)


def answer_parts(value: object, link_allowlist: str = "") -> list[tuple[str, str, str]]:
    """A model answer split into ("md", markdown, "") prose and ("code", text, language) parts.

    Fenced code is cut out and drawn with st.code rather than left to Markdown: whether a fence
    is open depends on list and quote nesting that a line scanner cannot follow exactly, and a
    wrong guess would leave prose unescaped. Prose keeps inline code spans as they are.
    """
    text = ("" if value is None else str(value))[:MAX_CHARS].replace("\x00", " ")
    allowed = allowlist(link_allowlist)
    parts: list[tuple[str, str, str]] = []
    prose: list[str] = []
    code: list[str] = []
    fence: str | None = None
    language = ""
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        opened = _FENCE.match(line)
        if fence is not None:
            mark = opened.group(1) if opened else ""
            if (
                mark[:1] == fence[0]
                and len(mark) >= len(fence)
                and not line.strip().strip(fence[0])
            ):
                parts.append(("code", "\n".join(code), language))
                code, fence = [], None
            else:
                code.append(line)
            continue
        if opened:
            if prose:
                parts.append(("md", "\n".join(prose), ""))
                prose = []
            fence = opened.group(1)
            language = re.sub(r"[^A-Za-z0-9_+-]", "", line.strip()[len(fence) :])[:20]
            continue
        prose.append(_escape_line(line, allowed))
    if fence is not None:
        parts.append(("code", "\n".join(code), language))
    if prose:
        parts.append(("md", "\n".join(prose), ""))
    return parts


def show_answer(value: object, link_allowlist: str = "") -> None:
    """Draw a model answer: safe Markdown prose and st.code blocks."""
    for kind, body, language in answer_parts(value, link_allowlist):
        if kind == "md":
            st.markdown(body)
        else:
            st.code(body, language=language or None, wrap_lines=True)
