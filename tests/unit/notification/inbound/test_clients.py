"""Only the new words of real replies, per mail client, in English and French."""

import pytest

from .mails import read

# (saved mail, the new words the desk must see)
REPLIES = [
    (
        "gmail_en",  # text part: attribution wrapped by Gmail before "wrote:"
        "Yes, the printer works again since this morning.\n"
        "The model is an HP LaserJet M404dn.\n\nThanks!",
    ),
    (
        "gmail_fr",  # "Le jeu. 3 déc. 2026 à 10:12, ... a\nécrit :", quoted-printable
        "Bonjour,\n\nOui, l'imprimante fonctionne à nouveau depuis ce matin.\n\n"
        "Cordialement,\nJeanne",
    ),
    (
        "gmail_html_only_en",  # HTML only: entities, lists, link target, signature div
        "Hi,\n\nIt still fails \u2014 the VPN drops after 5 minutes & I get error 809.\n\n"
        "Log: see this page <https://logs.example.org/vpn/42>\nSecond line\n\n"
        "  * Windows 11\n  * Client 5.2",
    ),
    (
        "outlook_desktop_en",  # "-----Original Message-----" then From:/Sent:/To:/Subject:
        "Hi,\n\nThe battery is a Dell 4GVMP, the laptop is a Latitude 7420.\n"
        "Best regards,\nJohn\n\nJohn Smith\nFinance | Corp Inc.",
    ),
    (
        "outlook_desktop_fr",  # "-----Message d'origine-----", windows-1252, "De\xa0:"
        "Bonjour,\n\nC'est une batterie Dell 4GVMP, l'ordinateur est un Latitude 7420.\n"
        "Merci à vous.\n\nMarc Dupont\nService financier",
    ),
    (
        "outlook_web_en",  # HTML only: history after #divRplyFwdMsg, #Signature dropped
        "Confirmed, I can open \\\\fs01\\finance now.\nCafé is on me.",
    ),
    (
        "outlook_web_fr",  # "____" then "De :/Envoyé :/À :/Objet :" with no-break spaces
        "Non, le problème persiste : l'écran reste noir au démarrage.\n\nMaïté",
    ),
    (
        "outlook_mobile_fr",  # base64 body, "Obtenir Outlook pour iOS", French header block
        "Oui, c'est bon pour moi, vous pouvez fermer.",
    ),
    (
        "outlook_html_only_fr",  # Word HTML, bold "De\xa0:" block under a border-top div
        "Bonjour,\n\nLe numéro de série est 5CG1234XYZ.\n\nAnne-Sophie Lévy",
    ),
    (
        "yahoo_en",  # Yahoo writes the history after "On ... wrote:" without ">"
        "The quota is fine now, thanks. You can close it.",
    ),
    ("apple_ios_en", "It is an iPhone 15, iOS 18.2. Syncing stopped on Monday."),
    ("apple_mac_fr", "Bonjour,\n\nC\u2019est plus lent depuis la mise à jour de mardi."),
    (
        "thunderbird_en",  # bottom-posted, interleaved answers, "-- " signature
        '"corp-guest", and it asks for a password nobody has.\n\nYes, on my phone too.',
    ),
    (
        "thunderbird_fr",  # "Le 03/12/2026 à 10:12, Stopclock Desk a écrit :"
        "Bonjour,\n\nLe réseau est « corp-invités » ; le mot de passe est refusé.",
    ),
    (
        "thunderbird_html_only_fr",  # HTML only in ISO-8859-15, moz-cite-prefix
        "Bonjour,\n\nLe scanner fonctionne, merci ! Le coût est de 15 €.\nDeuxième ligne & fin.",
    ),
]


@pytest.mark.parametrize(("name", "expected"), REPLIES, ids=[name for name, _ in REPLIES])
def test_a_reply_keeps_only_the_new_words(name: str, expected: str) -> None:
    mail = read(name)

    assert mail.new_text == expected
    assert not mail.quoted_only
    assert mail.auto_reply is None
    assert mail.bounce is None


@pytest.mark.parametrize(
    ("name", "sender", "sender_name", "subject"),
    [
        (
            "gmail_fr",
            "jeanne.berangere@gmail.com",
            "Jeanne Bérangère",
            "Re: [INC0000124] Nous avons besoin d'informations : Imprimante bloquée",
        ),
        (
            "outlook_desktop_fr",
            "marc.dupont@societe.fr",
            "Dupont, Marc",
            "RE: [INC0000126] Nous attendons votre réponse : Batterie",
        ),
        ("thunderbird_fr", "loic.guerin@orange.example", "Loïc Guérin", None),
        ("outlook_web_fr", "maite.legoff@exemple.fr", "Maïté Le Goff", None),
    ],
)
def test_encoded_words_in_names_and_subjects_are_decoded(
    name: str, sender: str, sender_name: str, subject: str | None
) -> None:
    mail = read(name)

    assert mail.sender == sender
    assert mail.sender_name == sender_name
    if subject is not None:
        assert mail.subject == subject


def test_threading_facts_come_from_the_headers() -> None:
    mail = read("gmail_en")

    assert mail.message_id == "<CAF=x8Qm0wH7kD6y_ZPqGv3b2Qn8w@mail.gmail.com>"
    assert mail.in_reply_to == ("<3f2a9c1e5b7d4a6f8e0c1b2a3d4e5f6a7b8c9d0e@stopclock.local>",)
    assert mail.recipients == ("reply+t.abc.def@desk.example.com", "desk@example.com")


def test_outlooks_x_auto_response_suppress_alone_is_no_automatic_reply() -> None:
    mail = read("outlook_desktop_en")

    assert mail.headers["x-auto-response-suppress"] == "All"
    assert mail.auto_reply is None


def test_a_mail_that_is_all_quote_keeps_its_text_and_says_so() -> None:
    mail = read("all_quote_en")

    assert mail.quoted_only
    assert mail.new_text.startswith("On Thu, Dec 3, 2026 at 10:12 AM Stopclock Desk")
    assert '> Does the printer work now? Reply "yes" if it does.' in mail.new_text


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        # Outlook "TR:" forward: the header block is the forwarded mail, not history
        ("forward_outlook_fr", "Votre compte est verrouillé après 5 tentatives."),
        # Gmail forward inside div.gmail_quote: kept although that div is a quote elsewhere
        ("gmail_forward_en", "Click here to keep your password."),
    ],
)
def test_a_forwarded_mail_is_content_not_history(name: str, kept: str) -> None:
    mail = read(name)

    assert kept in mail.new_text
    assert not mail.quoted_only


def test_attachments_are_listed_with_name_size_and_type() -> None:
    mail = read("attachments_fr")

    assert mail.new_text == "Voici la capture et la facture."
    assert [(a.filename, a.size, a.content_type, a.inline) for a in mail.attachments] == [
        ("logo.png", 19, "image/png", True),  # signature image referenced by the HTML
        ("facture décembre.pdf", 29, "application/pdf", False),  # RFC 2231 name
        ("écran.png", 19, "image/png", False),  # encoded-word name (Outlook, Gmail)
        ("Erreur 500.eml", 113, "message/rfc822", False),  # attached mail: its subject
    ]
