"""The answer page's templates rendered directly: accessibility, escaping, what each page says."""

import re
from html.parser import HTMLParser

import pytest

from stopclock_survey.answer_page import AnswerValues
from stopclock_survey.domain.waits import PageKind
from stopclock_survey.pages import PAGES

TICKET = {"number": "INC0000042", "title": "VPN <script>alert(1)</script>"}
QUESTION = 'Did the fix hold?\nIf not, paste the error: "<b>…</b>"'


def render_form(
    reason: str = "user_validation",
    locale: str = "en",
    values: AnswerValues | None = None,
    question: str | None = QUESTION,
    **errors: str,
) -> str:
    response = PAGES.render(
        "answer_form.html.j2",
        200,
        locale,
        ticket=TICKET,
        reason=reason,
        question=question,
        asked="3 December 2026",
        agent="Marie <Curie>",
        action="/a/token",
        form_token="f" * 64,
        values=values or AnswerValues(None, ""),
        errors=errors,
        max_comment=5000,
    )
    return bytes(response.body).decode()


class Structure(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[dict[str, str | None]] = []
        self.labels: set[str] = set()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append(tag)
        if tag in ("input", "textarea") and found.get("type") != "hidden":
            self.inputs.append(found)
        if tag == "label" and found.get("for"):
            self.labels.add(str(found["for"]))


@pytest.mark.parametrize(
    ("reason", "controls"), [("user_validation", 3), ("info_requested", 1), ("user_response", 1)]
)
def test_every_control_has_a_label_and_the_choice_a_legend(reason: str, controls: int) -> None:
    page = Structure()
    html = render_form(reason)
    page.feed(html)
    assert len(page.inputs) == controls
    assert all(c["id"] in page.labels for c in page.inputs)
    assert ("fieldset" in page.tags and "legend" in page.tags) is (reason == "user_validation")
    assert "script" not in page.tags


def test_the_question_and_the_ticket_are_shown_verbatim_and_escaped() -> None:
    html = render_form()
    assert "Did the fix hold?\nIf not, paste the error: &#34;&lt;b&gt;…&lt;/b&gt;&#34;" in html
    assert "VPN &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Marie &lt;Curie&gt;" in html
    assert "<script>" not in html


def test_a_wait_without_a_written_question_says_so() -> None:
    html = render_form("info_requested", question=None)
    assert "No question was written down" in html
    assert "blockquote" not in html


@pytest.mark.parametrize("choice", ["yes", "no"])
def test_the_choice_of_the_link_is_preselected(choice: str) -> None:
    html = render_form(values=AnswerValues(choice, ""))
    assert re.findall(r'id="answer-(\w+)"[^>]*checked', html) == [choice]


def test_a_form_sent_back_keeps_what_was_typed_and_says_what_to_fix() -> None:
    html = render_form(values=AnswerValues(None, "</textarea><i>x</i>"), answer="Choose!")
    assert 'role="alert"' in html
    assert '<a href="#answer-group">Choose!</a>' in html
    assert 'aria-describedby="answer-error"' in html
    assert "&lt;/textarea&gt;&lt;i&gt;x&lt;/i&gt;</textarea>" in html


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("user_validation", "If it works, we resolve INC0000042 as soon as you send this."),
        ("user_validation", "the clock on our target restarts"),
        ("info_requested", "Your answer goes straight to Marie &lt;Curie&gt;"),
    ],
)
def test_the_form_says_what_happens_next(reason: str, words: str) -> None:
    assert words in render_form(reason)


@pytest.mark.parametrize(
    ("locale", "words"), [("en", "No, it still fails"), ("fr", "Non, le problème persiste")]
)
def test_the_form_speaks_the_requesters_language(locale: str, words: str) -> None:
    html = render_form(locale=locale)
    assert f'<html lang="{locale}">' in html
    assert words in html


STALE = [k for k in PageKind if k is not PageKind.OPEN]


@pytest.mark.parametrize("locale", ["en", "fr"])
@pytest.mark.parametrize("kind", STALE)
def test_every_closed_link_has_a_page_naming_the_ticket(locale: str, kind: PageKind) -> None:
    response = PAGES.notice(f"answer_{kind.value}", 410, locale, TICKET, "7 décembre 2026")
    html = bytes(response.body).decode()
    assert response.status_code == 410
    assert "INC0000042" in html
    assert "{" not in html.split("<main>")[1]  # every placeholder was filled


@pytest.mark.parametrize(
    ("kind", "sentence"),
    [
        (PageKind.ANSWERED_HERE, "We received your answer on 4 May 2026"),
        (PageKind.CONFIRMED_HERE, "You told us on 4 May 2026 that it works"),
        (PageKind.RESOLVED, "This ticket was resolved on 4 May 2026"),
        (PageKind.NO_RESPONSE, "We had no answer by 4 May 2026"),
        (PageKind.CANCELLED, "This ticket was cancelled on 4 May 2026"),
        (PageKind.RESUMED, "On 4 May 2026 the service desk went on with INC0000042"),
        (PageKind.SUPERSEDED, "asked you something more recent about INC0000042"),
    ],
)
def test_a_closed_link_says_what_happened_and_when(kind: PageKind, sentence: str) -> None:
    response = PAGES.notice(f"answer_{kind.value}", 410, "en", TICKET, "4 May 2026")
    assert sentence in bytes(response.body).decode()


@pytest.mark.parametrize(
    ("resolved", "expected", "absent"),
    [
        (True, "we have resolved INC0000042", "runs again"),
        (False, "runs again from now", "resolved INC0000042"),
        (False, "Your answer is on its way to the agent", "survey"),
    ],
)
def test_the_thank_you_page_says_plainly_what_happens_next(
    resolved: bool, expected: str, absent: str
) -> None:
    response = PAGES.render(
        "answer_thanks.html.j2", 200, "en", ticket=TICKET, resolved=resolved, agent="the agent"
    )
    html = bytes(response.body).decode()
    assert expected in html
    assert absent not in html
