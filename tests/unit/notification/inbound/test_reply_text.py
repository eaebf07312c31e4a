"""Quote and signature stripping on text alone: what is cut, and what must never be."""

import pytest

from stopclock_notification.domain.inbound.reply_text import new_words

CUT = [
    # (why, text, new words)
    ("quoted lines", "Fixed.\n> Is it fixed?\n> Thanks", "Fixed."),
    ("nested quotes", "Yes.\n\n>> old\n> older", "Yes."),
    (
        "Gmail attribution on one line",
        "Yes.\n\nOn Thu, Dec 3, 2026 at 10:12 AM Desk <desk@example.com> wrote:\n> q",
        "Yes.",
    ),
    (
        "Gmail attribution wrapped inside the address",
        "Yes.\n\nOn Thu, Dec 3, 2026 at 10:12 AM Stopclock Desk <\ndesk@example.com> wrote:\n\n> q",
        "Yes.",
    ),
    (
        "French attribution wrapped before écrit",
        "Oui.\n\nLe jeu. 3 déc. 2026 à 10:12, Desk <desk@example.com> a\nécrit :\n\n> q",
        "Oui.",
    ),
    (
        "French attribution with a no-break space",
        "Oui.\n\nLe 03/12/2026 à 10:12, Desk a écrit\u00a0:\n> q",
        "Oui.",
    ),
    (
        "German Gmail attribution",
        "Ja.\n\nAm Do., 3. Dez. 2026 um 10:12 Uhr schrieb Desk <desk@example.com>:\n> q",
        "Ja.",
    ),
    (
        "Spanish attribution",
        "Sí.\n\nEl jue, 3 dic 2026 a las 10:12, Desk (<desk@example.com>) escribió:\n> q",
        "Sí.",
    ),
    ("loose attribution", "Done.\n\nStopclock Desk <desk@example.com> wrote:\n> q", "Done."),
    ("loose French attribution", "Fait.\n\nStopclock Desk a écrit :\n> q", "Fait."),
    (
        "attribution then unquoted history (client without >)",
        "Yes.\n\nOn 03.12.2026 10:12, Desk wrote:\nHello, does it work?\nDesk",
        "Yes.",
    ),
    (
        "Outlook Original Message",
        "Ok.\n\n-----Original Message-----\nFrom: Desk\nSent: Thursday\nWhatever",
        "Ok.",
    ),
    ("Outlook Message d'origine", "D'accord.\n-----Message d'origine-----\nDe : Desk", "D'accord."),
    ("German Outlook", "Gut.\n-----Ursprüngliche Nachricht-----\nVon: Desk", "Gut."),
    (
        "Outlook header block",
        "Ok.\n\nFrom: Stopclock Desk <desk@example.com>\nSent: Thursday, December 3, 2026\n"
        "To: Ann\nSubject: [INC0000123] Printer\n\nHello Ann",
        "Ok.",
    ),
    (
        "Outlook for Mac header block (Date)",
        "Ok.\n\nFrom: Stopclock Desk <desk@example.com>\nDate: Thursday, 3 December 2026\n"
        "To: Ann\nSubject: Printer\n\nHello",
        "Ok.",
    ),
    (
        "French header block with underscores above",
        "Ok.\n\n________________________________\nDe : Desk <desk@example.com>\n"
        "Envoyé : jeudi 3 décembre 2026 10:12\nÀ : Ann\nObjet : Imprimante\n\nBonjour",
        "Ok.",
    ),
    (
        "bold header block from HTML converters",
        "Ok.\n\n*From:* Desk <desk@example.com>\n*Sent:* Thursday\n*To:* Ann\n*Subject:* Printer",
        "Ok.",
    ),
    ("dash signature", "Works.\n\n-- \nAnn Lee\nACME", "Works."),
    ("dash signature without the space", "Works.\n--\nAnn Lee", "Works."),
    ("Sent from my iPhone", "Works.\n\nSent from my iPhone", "Works."),
    ("Envoyé de mon iPhone", "Ça marche.\n\nEnvoyé de mon iPhone", "Ça marche."),
    ("Get Outlook for Android", "Works.\n\nGet Outlook for Android", "Works."),
    (
        "Outlook mobile in French",
        "Ça marche.\n\nTéléchargez Outlook pour Android",
        "Ça marche.",
    ),
    ("German iPhone", "Geht.\n\nVon meinem iPhone gesendet", "Geht."),
    ("CRLF line ends", "Yes.\r\n\r\n> q\r\n", "Yes."),
    ("blank line runs collapse", "A.\n\n\n\n\nB.", "A.\n\nB."),
]


@pytest.mark.parametrize(("why", "text", "expected"), CUT, ids=[c[0] for c in CUT])
def test_history_and_signatures_are_removed(why: str, text: str, expected: str) -> None:
    assert new_words(text) == expected


KEPT = [
    # (why, text): every line here is the requester's and must survive
    ("courtesy closing", "Hello,\nThanks, it works now.\nBest regards,\nAnn"),
    ("French courtesy closing", "Bonjour,\nCordialement je confirme que c'est réparé.\nAnn"),
    ("hyphen list", "Steps:\n- open the app\n- click Save\n-Ann"),
    ("indentation", "Here is the log:\n    line 1\n        line 2"),
    ("a sentence with wrote but no date", "On Monday the technician wrote:\nreboot it"),
    ("From/To that are not headers", "Trip:\nFrom: Paris\nTo: Lyon\nDate: Monday"),
    ("a colon line", "Error message:\nAccess denied (0x5)"),
    ("Sent from in a sentence", "Sent from my iPhone the photo does not upload, see above."),
    ("email addresses", "Please add bob@example.com to the list."),
    ("arrows inside a line", "Go to Settings -> Network > Wi-Fi"),
]


@pytest.mark.parametrize(("why", "text"), KEPT, ids=[k[0] for k in KEPT])
def test_the_requesters_own_lines_are_never_cut(why: str, text: str) -> None:
    assert new_words(text) == text


def test_interleaved_answers_between_quotes_are_all_kept() -> None:
    text = "> Which model?\nHP M404\n> Since when?\nMonday\n> Other devices?\nNo"

    assert new_words(text) == "HP M404\nMonday\nNo"


def test_a_forward_keeps_the_forwarded_mail() -> None:
    text = (
        "See below.\n\n---------- Forwarded message ---------\nFrom: HR <hr@x.example>\n"
        "Date: Wed\nSubject: Locked\nTo: Ann\n\nYour account is locked."
    )

    assert new_words(text) == text


def test_a_forward_inside_the_history_is_still_history() -> None:
    text = (
        "Thanks, solved.\n\n-----Original Message-----\nFrom: Desk\nSent: Thu\n\n"
        "---------- Forwarded message ---------\nFrom: HR <hr@x.example>\nLocked."
    )

    assert new_words(text) == "Thanks, solved."


def test_apples_quoted_forward_is_kept_whole() -> None:
    text = "FYI\n\nBegin forwarded message:\n\n> From: HR <hr@x.example>\n> Locked."

    assert new_words(text) == text


def test_a_forward_subject_keeps_an_outlook_header_block() -> None:
    text = "FYI\n\nFrom: HR <hr@x.example>\nSent: Wed\nTo: Ann\nSubject: Locked\n\nLocked."

    assert new_words(text, forwarded=True) == text
    assert new_words(text) == "FYI"


def test_a_mail_with_only_history_has_no_new_words() -> None:
    assert new_words("On Thu, Dec 3, 2026 at 10:12 Desk <d@x.example> wrote:\n> q\n> r") == ""
