"""HTML mail as text: what a reader sees, without quoted history."""

import pytest

from stopclock_notification.domain.inbound.html_text import html_to_text


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("<p>One</p><p>Two</p>", "One\n\nTwo"),
        ("One<br>Two<br/>Three", "One\nTwo\nThree"),
        ("&eacute;t&eacute; &amp; &lt;hiver&gt; &#8364; &#x2014;", "été & <hiver> € \u2014"),
        ("a&nbsp;b", "a b"),
        ("<b>bold</b> <i>italic</i> <span>x</span>", "bold italic x"),
        ("<script>alert(1)</script><style>p{}</style>text", "text"),
        ('<span style="display:none">preheader</span>visible', "visible"),
        ("<!-- a comment -->text", "text"),
        ("Before<blockquote>quoted</blockquote>After", "Before\nAfter"),
        ('<a href="https://x.example/p">page</a>', "page <https://x.example/p>"),
        ('<a href="https://x.example/p">https://x.example/p</a>', "https://x.example/p"),
        ('<a href="mailto:a@x.example">write</a>', "write"),
    ],
)
def test_html_becomes_plain_text(markup: str, expected: str) -> None:
    assert html_to_text(markup).strip() == expected


def test_quoted_history_stays_when_asked() -> None:
    assert "quoted" in html_to_text("New<blockquote>quoted</blockquote>", drop_history=False)


def test_outlook_web_history_after_the_reply_marker_is_dropped() -> None:
    markup = (
        "<div>My answer</div><div id='appendonsend'></div><hr>"
        "<div id='divRplyFwdMsg'><b>From:</b> Desk</div><div>The question</div>"
    )

    assert html_to_text(markup).strip() == "My answer"


def test_a_forward_inside_a_blockquote_is_kept() -> None:
    markup = (
        "Look at this<blockquote type='cite'><div>Begin forwarded message:</div>"
        "<div>From: HR</div><div>Locked account</div></blockquote>"
    )

    assert "Locked account" in html_to_text(markup)


@pytest.mark.parametrize(
    "markup",
    [
        "",
        "   ",
        "<",
        "<<>>",
        "</p></div>",
        "<?xml version='1.0' encoding='utf-8'?><p>x</p>",
        "<div>" * 50_000 + "deep" + "</div>" * 50_000,
        "\x00<p>\x00</p>",
        "\ud800 lone surrogate",
    ],
)
def test_any_markup_gives_text_without_raising(markup: str) -> None:
    assert isinstance(html_to_text(markup), str)
