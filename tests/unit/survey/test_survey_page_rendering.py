"""The survey page's templates rendered directly: escaping, labels, pre-selection."""

import re
from html.parser import HTMLParser

import pytest

from stopclock_survey.pages import PAGES
from stopclock_survey.survey_page import FormValues

TICKET = {"number": "INC0000042", "title": 'VPN <script>alert("x")</script> & co'}


def render_form(locale: str = "en", values: FormValues | None = None, **errors: str) -> str:
    response = PAGES.render(
        "survey_form.html.j2",
        200,
        locale,
        ticket=TICKET,
        action="/s/token",
        form_token="f" * 64,
        values=values or FormValues(None, None, ""),
        errors=errors,
        max_comment=2000,
        expires="7 December 2026",
    )
    return bytes(response.body).decode()


class Controls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[dict[str, str | None]] = []
        self.labels: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("input", "textarea") and found.get("type") != "hidden":
            self.inputs.append(found)
        if tag == "label" and found.get("for"):
            self.labels.add(str(found["for"]))


def test_every_control_of_the_form_has_a_label() -> None:
    controls = Controls()
    controls.feed(render_form())
    assert len(controls.inputs) == 8  # five ratings, yes, no, the comment
    assert all(c["id"] in controls.labels for c in controls.inputs)


def test_the_ticket_title_is_shown_escaped_never_as_markup() -> None:
    html = render_form()
    assert "<script>" not in html
    assert "VPN &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co" in html
    assert "INC0000042" in html


def test_a_rating_from_the_link_is_preselected() -> None:
    html = render_form(values=FormValues(4, None, ""))
    checked = re.findall(r'id="rating-(\d)"[^>]*checked', html)
    assert checked == ["4"]


def test_a_form_sent_back_keeps_what_was_typed_and_says_what_to_fix() -> None:
    html = render_form(values=FormValues(None, "no", "</textarea><b>hi</b>"), rating="Choose!")
    assert 'role="alert"' in html
    assert "Choose!" in html
    assert re.search(r'id="resolved-no"[^>]*checked', html)
    assert "&lt;/textarea&gt;&lt;b&gt;hi&lt;/b&gt;</textarea>" in html


@pytest.mark.parametrize(
    ("locale", "words"), [("en", "Is your issue resolved?"), ("fr", "résolu ?")]
)
def test_the_form_speaks_the_requesters_language(locale: str, words: str) -> None:
    html = render_form(locale)
    assert f'<html lang="{locale}">' in html
    assert words in html


def test_the_page_says_what_happens_next() -> None:
    html = render_form()
    assert "What happens next" in html
    assert "reopen the ticket" in html
    assert "service desk manager" in html


def test_pages_allow_only_their_own_stylesheet_and_never_leak_the_link() -> None:
    response = PAGES.render("notice.html.j2", 404, "en", kind="not_found", ticket=None, date="")
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "style-src 'sha256-" in csp
    assert "script-src" not in csp
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("negative", "reopened", "expected", "absent"),
    [
        (False, False, "Thank you for giving us this minute", "sorry"),
        (True, False, "The service desk manager has been told", "reopened"),
        (True, True, "We have reopened INC0000042", "Thank you for giving us"),
    ],
)
def test_the_thank_you_page_says_what_happens_next(
    negative: bool, reopened: bool, expected: str, absent: str
) -> None:
    response = PAGES.render(
        "survey_thanks.html.j2", 200, "en", ticket=TICKET, negative=negative, reopened=reopened
    )
    html = bytes(response.body).decode()
    assert expected in html
    assert absent not in html
