"""The local SMTP catcher stores what it accepts so that ``mailbox.Maildir`` reads it back
intact (headers, multipart body, non-ASCII text), and never leaves a file in ``tmp/``."""

from __future__ import annotations

import mailbox
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from ops_support import REPO

from devstack.mailcatcher import MODULE
from stopclock_shared.testing.processes import free_port


@pytest.fixture
def catcher(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    port, maildir = free_port(), tmp_path / "mail"
    argv = [sys.executable, "-m", MODULE]
    proc = subprocess.Popen(
        [*argv, "--host", "127.0.0.1", "--port", str(port), "--maildir", str(maildir)],
        cwd=REPO,  # devstack is imported from the repository root
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield port, maildir
    proc.terminate()
    proc.wait(10)


def test_a_multipart_mail_is_stored_as_sent(catcher: tuple[int, Path]) -> None:
    port, maildir = catcher
    mail = EmailMessage()
    mail["From"] = "desk@example.com"
    mail["To"] = "zoe@example.com"
    mail["Subject"] = "[INC0000042] Wir haben Ihre Meldung erhalten - schön"
    mail["Message-ID"] = "<abc.123@stopclock>"
    mail.set_content("Grüße,\nthe desk\n")
    mail.add_alternative("<p>Grüße, <b>the desk</b></p>", subtype="html")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(mail)

    box = mailbox.Maildir(maildir, create=False)
    stored = list(box)
    assert len(stored) == 1
    got = stored[0]
    assert got["Message-ID"] == "<abc.123@stopclock>"
    assert got["X-RcptTo"] == "zoe@example.com"
    assert str(got["Subject"]).startswith("[INC0000042]")
    parts = [p.get_content_type() for p in got.walk()]
    assert parts == ["multipart/alternative", "text/plain", "text/html"]
    text = next(p for p in got.walk() if p.get_content_type() == "text/plain")
    body = text.get_payload(decode=True)
    assert isinstance(body, bytes)
    assert "Grüße" in body.decode(text.get_content_charset() or "utf-8")
    assert list((maildir / "tmp").iterdir()) == []
