"""User text (URL parameters, folder and file names, zip entries) shown on a page is never rendered as Markdown.

Streamlit renders the body of `st.markdown`, `st.caption`, `st.error` and friends as Markdown, so a dataset named
`[click](https://evil.example)` would be a link and `![x](https://evil.example/x.png)` an image fetched by the
browser. `escape_markdown` neutralises every construct (links, images, emphasis, code, HTML, maths, Streamlit's
`:colour[…]` and `:icon:` directives, bare URLs) while leaving ordinary sentences byte-for-byte as they are;
`inline_code` shows a name verbatim in a code span.
"""

from __future__ import annotations

import re

__all__ = ["escape_markdown", "inline_code", "shown"]

_ALWAYS = re.compile(r"([\\`*\[\]<>$~|{}@&])")  # characters that open or close a construct anywhere
_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")  # "digit_0000" never emphasises; "_x_" would
_LINE_START = re.compile(r"^(\s*)([#>+\-=]|\d+[.)])", re.MULTILINE)  # headings, quotes, lists, setext underlines
_DIRECTIVE_COLON = re.compile(r":(?=\S)")  # ":red[", ":material/icon:", "https://": a colon with no space after
_BARE_WWW = re.compile(r"(?i)\b(www)\.")  # "www.example.com" is linked without a scheme


def escape_markdown(text: str) -> str:
    """`text` with every Markdown construct backslash-escaped; text without any is returned unchanged."""
    text = _ALWAYS.sub(r"\\\1", text)
    text = _UNDERSCORE.sub(r"\\_", text)
    text = _DIRECTIVE_COLON.sub(r"\\:", text)
    text = _BARE_WWW.sub(r"\1\\.", text)
    return _LINE_START.sub(_escape_line_start, text)


def _escape_line_start(match: re.Match) -> str:
    marker = match.group(2)  # "1." becomes "1\.": a backslash before a digit would stay a visible backslash
    return f"{match.group(1)}{marker[:-1]}\\{marker[-1]}"


def shown(text: str, limit: int = 120) -> str:
    """Long user text cut for display, control characters made visible (a NUL byte shows as \\x00)."""
    visible = "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
    return visible if len(visible) <= limit else f"{visible[:limit]}… ({len(text):,} characters)"


def inline_code(text: str, limit: int = 120) -> str:
    """A Markdown code span showing `text` verbatim (cut to `limit` characters), whatever backticks it holds."""
    text = shown(text, limit).replace("\n", " ")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    padding = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{padding}{text}{padding}{fence}"
