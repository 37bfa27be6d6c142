"""U3: the rendering rule turns hostile outside text into text, checked with a CommonMark parser.

markdown-it-py (the CommonMark reference port, GFM linkify on) parses what `text.plain` and
`text.answer_parts` return: no image, link, autolink or raw HTML node may come out of a hostile
value, while the formatting of a model answer (lists, emphasis, inline code, code blocks) stays.
"""

from __future__ import annotations

import pytest

from petcare_dba.ui.components import text

markdown_it = pytest.importorskip("markdown_it")

HOSTILE = [
    "![x](http://127.0.0.1:9/leak?cpf=123.456.789-09)",
    "![x](/auth/logout)",
    '<img src="http://127.0.0.1:9/leak">',
    "[click](javascript:alert(1))",
    "<http://127.0.0.1:9/auto>",
    "http://127.0.0.1:9/bare and www.example.com and a@b.example",
    "[ref][1]\n\n[1]: http://127.0.0.1:9/ref",
    "\\![x](http://127.0.0.1:9/escaped-escape)",
    "`a` ![x](http://127.0.0.1:9/after-code) `b`",
    "&#33;[x](http://127.0.0.1:9/entity)",
    "imported by admin\n\n# fake heading\n![x](http://127.0.0.1:9/nl)",
    "1. item\n   ```\n   code\n![x](http://127.0.0.1:9/fence-in-list)",
    "```\nok\n```\n![x](http://127.0.0.1:9/after-fence)",
    "~~~\n![x](http://127.0.0.1:9/in-tilde)\n~~~",
    "[![x](http://127.0.0.1:9/nested)](https://docs.example.com/page)",
    ":red[x] $\\href{http://127.0.0.1:9}{y}$",
]


def _tokens(markdown: str) -> list[str]:
    md = markdown_it.MarkdownIt("commonmark", {"linkify": False}).enable("table")
    found = []
    stack = md.parse(markdown)
    while stack:
        tok = stack.pop()
        found.append(tok.type)
        stack.extend(tok.children or [])
    return found


def _dangerous(markdown: str) -> set[str]:
    kinds = set(_tokens(markdown))
    bad = {"image", "link_open", "html_inline", "html_block"} & kinds
    # GFM autolink literals (not in CommonMark): a URL scheme, www. or an e-mail left intact.
    for needle in ("://", "www.", "@b.example"):
        if needle in markdown.replace("\\", ""):
            unescaped = markdown.replace("\\:", "").replace("www\\.", "").replace("\\@", "")
            if needle in unescaped:
                bad.add("autolink:" + needle)
    return bad


@pytest.mark.parametrize("value", HOSTILE)
def test_plain_renders_no_image_link_or_html(value: str) -> None:
    out = text.plain(value)
    assert _dangerous(out) == set()
    assert "\n" not in out and "\r" not in out  # a name cannot fake a second line


@pytest.mark.parametrize("value", HOSTILE)
def test_model_answers_render_no_image_link_or_html(value: str) -> None:
    for kind, body, _ in text.answer_parts(value):
        if kind == "md":
            assert _dangerous(body) == set(), body


def test_plain_shows_the_same_characters() -> None:
    value = "![x](/auth/logout) <b>ok</b> *a* _b_ 100% $5"
    md = markdown_it.MarkdownIt("commonmark")
    rendered = md.render(text.plain(value))
    assert "![x](/auth/logout)" in rendered.replace("&lt;", "<").replace("&gt;", ">")


def test_answers_keep_their_formatting_and_code() -> None:
    answer = "# Plan\n\n- **one**\n- `SELECT 1`\n\n```sql\nSELECT '![x](http://e/)';\n```\ndone"
    parts = text.answer_parts(answer)
    kinds = [k for k, _, _ in parts]
    assert kinds == ["md", "code", "md"]
    assert parts[1] == ("code", "SELECT '![x](http://e/)';", "sql")
    tokens = _tokens(parts[0][1])
    assert {"heading_open", "bullet_list_open", "strong_open", "code_inline"} <= set(tokens)


def test_allow_listed_https_links_stay_and_nothing_else() -> None:
    allow = "https://docs.example.com/, http://insecure.example/, https://bare.example"
    assert text.allowlist(allow) == ("https://docs.example.com/",)
    body = text.answer_parts(
        "[docs](https://docs.example.com/x) [evil](https://docs.example.com.evil.test/x)", allow
    )[0][1]
    tokens = _tokens(body)
    assert tokens.count("link_open") == 1
    assert "(https://docs.example.com/x)" in body
    assert "docs.example.com.evil.test" in body and "\\[evil\\]" in body


def test_oversized_values_are_cut() -> None:
    assert len(text.plain("a" * (text.MAX_CHARS * 3))) == text.MAX_CHARS
