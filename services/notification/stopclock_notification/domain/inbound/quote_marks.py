"""The lines mail clients write around quoted history and signatures, in the languages our
requesters use (English and French first; German, Spanish, Italian, Dutch, Portuguese and
Nordic forms where clients localise them)."""

from __future__ import annotations

import re

_COLON = r"[ \t\u00a0\u202f]*[:\uff1a]"  # French typography puts a (narrow) no-break space first

# "---------- Forwarded message ---------" (Gmail), "Begin forwarded message:" (Apple),
# "-------- Forwarded Message --------" (Thunderbird), and their French/German/... forms
FORWARD_MARKER = re.compile(
    r"(-{3,}\s*(forwarded message|message transf[ée]r[ée]|weitergeleitete nachricht"
    r"|mensaje reenviado|messaggio inoltrato|doorgestuurd bericht|mensagem encaminhada)\s*-{3,}"
    r"|^\s*(begin forwarded message|d[ée]but du message r[ée]exp[ée]di[ée]"
    r"|anfang der weitergeleiteten nachricht|inicio del mensaje reenviado)" + _COLON + ")",
    re.IGNORECASE | re.MULTILINE,
)

# Outlook desktop (plain text), Lotus and others: everything below is the previous mail
ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(original message|message d['\u2019]origine|ursprüngliche nachricht"
    r"|originalnachricht|mensaje original|messaggio originale|oorspronkelijk bericht"
    r"|mensagem original|oprindelig meddelelse|ursprungligt meddelande"
    r"|opprinnelig melding)\s*-{2,}\s*$",
    re.IGNORECASE,
)

# Outlook's header block: "From:" then "Sent:"/"To:"/"Subject:" (or "De :", "Envoyé :",
# "À :", "Objet :"); also bold in HTML rendered as text ("*From:*")
HEADER_FROM = re.compile(
    r"^\s*\**(from|de|von|van|da|fra|från|od)\**" + _COLON + r"\**\s*\S", re.IGNORECASE
)
HEADER_FIELD = re.compile(
    r"^\s*\**(sent|date|to|cc|subject|envoy[ée](\s+le)?|[àa]|objet|gesendet|datum|an|betreff"
    r"|verzonden|aan|onderwerp|enviado|fecha|para|asunto|inviato|data|oggetto|enviada"
    r"|sendt|til|emne|skickat|till|ämne|kopie)\**" + _COLON,
    re.IGNORECASE,
)
HEADER_SUBJECT = re.compile(
    r"^\s*\**(subject|objet|betreff|onderwerp|asunto|oggetto|assunto|emne|ämne)\**" + _COLON,
    re.IGNORECASE,
)

_WROTE = (
    r"(wrote|writes|a [ée]crit|schrieb|escribi[óo]|ha scritto|schreef|escreveu|skrev"
    r"|napsal\(a\)|napisa[łl](\(a\))?)"
)
# "On Thu, Dec 3, 2026 at 10:12 AM Desk <desk@example.com> wrote:", "Le jeu. 3 déc. 2026 à
# 10:12, Desk <desk@example.com> a écrit :", "Am Do., 3. Dez. 2026 um 10:12 Uhr schrieb
# Desk <desk@example.com>:" ... Clients wrap it over two or three lines.
ATTRIBUTION = re.compile(
    r"^\s*(on|le|am|el|il|op|em|den|dne|w dniu|il giorno)\b.{2,400}\b" + _WROTE + r"\b.{0,200}?"
    r"[:\uff1a]\s*$",
    re.IGNORECASE,
)
# "Desk <desk@example.com> wrote:", "Stopclock Desk a écrit :", "Quoting desk@example.com:"
LOOSE_ATTRIBUTION = re.compile(
    r"^\s*(.{1,200}\b"
    + _WROTE
    + _COLON
    + r"|(quoting|citation de|zitat von)\s.{1,200}[:\uff1a])\s*$",
    re.IGNORECASE,
)

SIGNATURE_DASHES = re.compile(r"^--[ \t]?$")

# one-line signatures of mobile and webmail clients
MOBILE_SIGNATURE = re.compile(
    r"^\s*("
    r"sent from my \S.{0,40}"
    r"|sent from (outlook|yahoo mail|mail for windows|samsung|my mobile)\b.{0,40}"
    r"|sent via (the )?(samsung|galaxy|android|blackberry|iphone|ipad|outlook|yahoo|my)\b.{0,60}"
    r"|get outlook for (ios|android)\b.{0,20}"
    r"|envoy[ée] (de|depuis|à partir de|a partir de) (mon|ma|outlook|yahoo|mail)\b.{0,40}"
    r"|(t[ée]l[ée]charge[rz]|obtenir|obtenez) outlook pour (ios|android)\b.{0,20}"
    r"|von meinem \S.{0,40} gesendet"
    r"|gesendet von (meinem )?\S.{0,40}"
    r"|enviado desde mi .{1,40}"
    r"|inviato da (il mio )?\S.{0,40}"
    r"|verzonden (vanaf|met|van) (mijn )?\S.{0,40}"
    r")[.!]?\s*$",
    re.IGNORECASE,
)

SEPARATOR_LINE = re.compile(r"^\s*[-_=*~]{3,}\s*$")
QUOTED_LINE = re.compile(r"^[ \t]*>")
