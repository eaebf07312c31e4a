"""Only the new words of a mail: quoted history and the signature removed.

Why our own module: mail-parser-reply 1.36 (the maintained reply parser on PyPI) was
evaluated on our English and French cases and loses requesters' words: it cuts a reply at
any line starting "Thanks,"/"Cordialement"/"- item" (signature guesses), misses Gmail's
French attribution wrapped as "a\\nécrit :" and Outlook's "De:" without a space, and strips
indentation. Here only unambiguous markers cut, courtesy closings stay, and a line that
might be the requester's own is kept.

The rules, in reading order (a line is looked at only if it is not quoted):
- ``>`` lines are quoted history and dropped (interleaved answers between them stay);
- an attribution ("On ... wrote:", "Le ... a écrit :", over up to three lines) is dropped
  when quoted lines or nothing follow; when plain lines follow, the client quoted without
  ``>`` and everything from it is history;
- "-----Original Message-----" (and its translations) and an Outlook header block
  ("From:" with "Sent:"/"To:" and "Subject:", or "De :"/"Envoyé :"/"À :"/"Objet :") start
  the history: everything from there is dropped;
- a forwarded message (its marker, or a forward subject) is content, never history;
- the signature starts at a line "-- " (or "--"); mobile one-liners ("Sent from my
  iPhone", "Envoyé de mon iPhone", ...) are dropped.
"""

from __future__ import annotations

import re

from .quote_marks import (
    ATTRIBUTION,
    FORWARD_MARKER,
    HEADER_FIELD,
    HEADER_FROM,
    HEADER_SUBJECT,
    LOOSE_ATTRIBUTION,
    MOBILE_SIGNATURE,
    ORIGINAL_MESSAGE,
    QUOTED_LINE,
    SEPARATOR_LINE,
    SIGNATURE_DASHES,
)

_ATTRIBUTION_LINES = 3
_HEADER_BLOCK_LINES = 7
_ATTRIBUTION_EVIDENCE = re.compile(r"\d|@")  # a date or an address: not a sentence
_BLANKS = re.compile(r"\n{3,}")


def normalised(text: str) -> str:
    """Line ends as ``\\n``, no trailing spaces except the "-- " signature mark, no
    leading or trailing blank lines, at most one blank line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    # "-- " keeps its space: it is the signature mark
    lines = [line if line == "-- " else line.rstrip() for line in text.split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip("\n")


def new_words(text: str, *, forwarded: bool = False, budget: int | None = None) -> str:
    """The part of ``text`` the sender wrote now (may be empty when all of it is history).

    With ``forwarded`` (a forward subject), or a forward marker among the new lines, nothing
    is treated as history: the forwarded mail is what the sender wants read. Past ``budget``
    characters of new words the rest is not looked at (the caller keeps no more than that).
    """
    lines = normalised(text).split("\n")
    if not forwarded:
        kept = _without_history(lines, budget)
        # a marker in the history (a quoted earlier forward) does not count
        if not any(FORWARD_MARKER.search(line) for line in kept):
            return _tidy(_without_signature(kept))
    return normalised("\n".join(_without_mobile_lines(lines)))


def _without_history(lines: list[str], budget: int | None) -> list[str]:
    kept: list[str] = []
    size = 0
    i = 0
    while i < len(lines) and (budget is None or size <= budget):
        line = lines[i]
        if QUOTED_LINE.match(line):
            i += 1
            continue
        if ORIGINAL_MESSAGE.match(line) or _header_block_at(lines, i):
            break
        span = _attribution_at(lines, i)
        if span:
            nxt = _next_nonblank(lines, i + span)
            if nxt is None or QUOTED_LINE.match(lines[nxt]):
                i += span
                continue
            if _strict_attribution(lines, i, span):
                break  # history quoted without ">": the rest is the previous mail
        kept.append(line)
        size += len(line) + 1
        i += 1
    return kept


def _attribution_at(lines: list[str], i: int) -> int:
    """How many lines from ``i`` form an attribution line, 0 if none."""
    for span in range(1, _ATTRIBUTION_LINES + 1):
        if i + span > len(lines) or (span > 1 and not lines[i + span - 1].strip()):
            return 0
        joined = " ".join(line.strip() for line in lines[i : i + span])
        if _strict(joined) or (span == 1 and LOOSE_ATTRIBUTION.match(joined)):
            return span
    return 0


def _strict_attribution(lines: list[str], i: int, span: int) -> bool:
    return _strict(" ".join(line.strip() for line in lines[i : i + span]))


def _strict(joined: str) -> bool:
    return bool(ATTRIBUTION.match(joined) and _ATTRIBUTION_EVIDENCE.search(joined))


def _header_block_at(lines: list[str], i: int) -> bool:
    """A "From:" line followed by at least two header fields, one of them the subject."""
    if not HEADER_FROM.match(lines[i]):
        return False
    block = lines[i + 1 : i + 1 + _HEADER_BLOCK_LINES]
    fields = [line for line in block if HEADER_FIELD.match(line)]
    return len(fields) >= 2 and any(HEADER_SUBJECT.match(line) for line in fields)


def _next_nonblank(lines: list[str], start: int) -> int | None:
    for j in range(start, len(lines)):
        if lines[j].strip():
            return j
    return None


def _without_signature(lines: list[str]) -> list[str]:
    for i, line in enumerate(lines):
        if SIGNATURE_DASHES.match(line):
            lines = lines[:i]
            break
    return _without_mobile_lines(lines)


def _without_mobile_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if not MOBILE_SIGNATURE.match(line)]


def _tidy(lines: list[str]) -> str:
    # separators left above a removed Outlook block ("________________")
    while lines and (not lines[-1].strip() or SEPARATOR_LINE.match(lines[-1])):
        lines.pop()
    return normalised("\n".join(lines))
