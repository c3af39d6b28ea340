"""HTML mail bodies to readable plain text, for reports sent from HTML-only clients.

html2text does the layout (paragraphs, lists, quotes, entities, dropping scripts and styles);
a tag callback and one pass afterwards remove what is Markdown rather than text: emphasis marks,
`#` headings, `[text](url)` links (kept as `text (url)`), and backslash escapes.
"""

from __future__ import annotations

import re
from html import unescape

import html2text

# The escapes html2text adds to data (`1\.`, `\-`, `\\`); text never contains them otherwise.
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!])")
_BLANK_RUNS = re.compile(r"\n{3,}")
_TAG = re.compile(r"<[^>]*>")
_DROPPED = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.S | re.I)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "hr"})


class _Converter(html2text.HTML2Text):
    """html2text configured for people reading text, not for Markdown."""

    def __init__(self) -> None:
        super().__init__(bodywidth=0)
        self.ignore_emphasis = True
        self.images_to_alt = True
        self.ignore_tables = True
        self.unicode_snob = True
        self.ul_item_mark = "-"
        self.tag_callback = _tag_callback  # type: ignore[assignment]  # html2text types it None
        self.open_links: list[tuple[str, int]] = []


def _tag_callback(
    h: html2text.HTML2Text, tag: str, attrs: dict[str, str | None], start: bool
) -> bool:
    """Replace html2text's Markdown for headings, rules, links and table cells."""
    if tag in _HEADINGS:
        h.p()
        return True
    if tag in ("td", "th") and not start:
        h.o(" ")
    if tag != "a" or not isinstance(h, _Converter):
        return False
    if start:
        h.open_links.append((attrs.get("href") or "", len(h.outtextlist)))
    elif h.open_links:
        href, at = h.open_links.pop()
        _close_link(h, href, "".join(h.outtextlist[at:]))
    return True


def _close_link(h: _Converter, href: str, text: str) -> None:
    """Write the target after the link text, unless the text already shows it."""
    url = href[len("mailto:") :] if href.lower().startswith("mailto:") else href
    if url and not url.startswith("#") and url not in text:
        h.o(f" ({url})")


def html_to_text(html: str) -> str:
    """Convert an HTML body to plain text: paragraphs kept, links as `text (url)`, no markup."""
    try:
        out = _MD_ESCAPE.sub(r"\1", _Converter().handle(html))
    except Exception:  # a converter bug must not cost us the report: fall back to bare text
        out = unescape(_TAG.sub(" ", _DROPPED.sub(" ", html)))
    out = out.replace("\xa0", " ")
    lines = [line.rstrip() for line in out.splitlines()]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()
