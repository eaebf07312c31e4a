"""HTML mail as plain text: tags gone, entities decoded, block elements as line breaks,
and (for a reply) the quoted history and the signature containers dropped.

inscriptis does the layout (maintained, Apache-2.0, on lxml); lxml lets us remove the
elements mail clients wrap history in before the text is laid out. html2text was not chosen:
it writes Markdown (escapes, ``**``) and is GPL.
"""

from __future__ import annotations

import html
import re

import lxml.html
from inscriptis import Inscriptis
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig
from lxml import etree

from .quote_marks import FORWARD_MARKER

# Containers of quoted history, per client: every blockquote (Apple Mail, Thunderbird, Gmail,
# Outlook web "quote"), Gmail's quote wrapper, Thunderbird's "On ... wrote:" prefix, Yahoo.
_QUOTES = (
    "//blockquote"
    " | //*[contains(concat(' ', normalize-space(@class), ' '), ' gmail_quote ')]"
    " | //*[contains(concat(' ', normalize-space(@class), ' '), ' moz-cite-prefix ')]"
    " | //*[contains(concat(' ', normalize-space(@class), ' '), ' yahoo_quoted ')]"
)
# Outlook on the web: the history follows these markers as siblings, not as children
_OUTLOOK_HISTORY = "//*[@id='divRplyFwdMsg' or @id='appendonsend']"
_SIGNATURES = (
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' gmail_signature ')]"
    " | //*[contains(concat(' ', normalize-space(@class), ' '), ' moz-signature ')]"
    " | //*[@id='Signature' or @id='signature']"
)
_CONFIG = ParserConfig(css=CSS_PROFILES["strict"])
_TAG = re.compile(r"<[^>]*>")
_BREAK = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h\d)\b[^>]*>", re.IGNORECASE)
_DROP_BLOCK = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


def html_to_text(markup: str, *, drop_history: bool = True) -> str:
    """The text a reader sees in ``markup``. With ``drop_history`` the quoted history and
    signature blocks are left out, except a block that is a forwarded message (the
    forwarded words are what the sender wants us to read)."""
    try:
        tree = lxml.html.document_fromstring(
            markup.encode("utf-8", "replace"),
            parser=lxml.html.HTMLParser(encoding="utf-8", remove_comments=True),
        )
        if drop_history:
            _drop_history(tree)
        _show_link_targets(tree)
        text = str(Inscriptis(tree, _CONFIG).get_text())
    except (etree.LxmlError, ValueError, RecursionError, AssertionError, TypeError):
        text = _crude_text(markup)  # empty or pathological markup: still never raise
    return text.replace("\u00a0", " ")


def _drop_history(tree: lxml.html.HtmlElement) -> None:
    for element in tree.xpath(_QUOTES) + tree.xpath(_SIGNATURES):
        if not _is_forward(element):
            _remove(element)
    for marker in tree.xpath(_OUTLOOK_HISTORY):
        if _is_forward(marker):
            continue
        for sibling in list(marker.itersiblings()):
            _remove(sibling)
        _remove(marker)


def _is_forward(element: lxml.html.HtmlElement) -> bool:
    start = " ".join(element.text_content()[:400].split())
    return bool(FORWARD_MARKER.search(start))


def _remove(element: lxml.html.HtmlElement) -> None:
    """Remove ``element`` but not the text after it, which starts on a new line."""
    parent = element.getparent()
    if parent is None:  # the root, or already gone with an ancestor
        return
    line_break = etree.Element("br")
    line_break.tail = element.tail
    parent.replace(element, line_break)


def _show_link_targets(tree: lxml.html.HtmlElement) -> None:
    """A link's address matters to the agent ("the error is on this page"): keep it after
    the link text unless the text already shows it."""
    for link in tree.iter("a"):
        href = (link.get("href") or "").strip()
        if not href.startswith(("http://", "https://")):
            continue
        shown = link.text_content().strip()
        if shown and href.rstrip("/") not in shown:
            link.tail = f" <{href}>" + (link.tail or "")


def _crude_text(markup: str) -> str:
    text = _DROP_BLOCK.sub(" ", markup)
    text = _BREAK.sub("\n", text)
    return html.unescape(_TAG.sub("", text))
