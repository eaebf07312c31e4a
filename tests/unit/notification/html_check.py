"""A small well-formedness check for the HTML of mails (stdlib html.parser)."""

from html.parser import HTMLParser

VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


class BalanceChecker(HTMLParser):
    """Records the problems of a document: unbalanced tags, missing `lang` or `title`."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problems: list[str] = []
        self.lang: str | None = None
        self.title = ""
        self.has_doctype = False
        self._in_title = False

    def handle_decl(self, decl: str) -> None:
        self.has_doctype = self.has_doctype or decl.lower() == "doctype html"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html":
            self.lang = dict(attrs).get("lang")
        if tag == "title":
            self._in_title = True
        if tag not in VOID_ELEMENTS:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID_ELEMENTS:
            self.problems.append(f"self-closed <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1] if self.open else 'nothing'}")
            return
        self.open.pop()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def check_html(document: str) -> BalanceChecker:
    """Parse `document` and return the checker with what it found."""
    checker = BalanceChecker()
    checker.feed(document)
    checker.close()
    if checker.open:
        checker.problems.append(f"unclosed: {checker.open}")
    return checker
