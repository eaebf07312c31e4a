"""The memo that lets the sender reuse the mail the consumer already wrote."""

from stopclock_notification.domain import RenderedMail
from stopclock_notification.written_mails import WrittenMails


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def mail(n: int) -> RenderedMail:
    return RenderedMail(subject=f"s{n}", text=f"t{n}\n", html=f"<p>{n}</p>\n")


def test_a_mail_is_taken_once() -> None:
    memo = WrittenMails()
    memo.put("k", mail(1))
    assert memo.take("k") == mail(1)
    assert memo.take("k") is None


def test_when_full_the_oldest_mails_are_kept_for_the_senders_that_work_oldest_first() -> None:
    memo = WrittenMails(capacity=2, clock=Clock())
    for n in range(3):
        memo.put(f"k{n}", mail(n))
    assert len(memo) == 2
    assert memo.take("k2") is None
    assert memo.take("k0") == mail(0)


def test_mails_nobody_took_make_room_once_they_are_old() -> None:
    clock = Clock()
    memo = WrittenMails(capacity=2, max_age_seconds=60, clock=clock)
    memo.put("k0", mail(0))
    memo.put("k1", mail(1))
    clock.now = 61
    memo.put("k2", mail(2))
    assert memo.take("k0") is None
    assert memo.take("k2") == mail(2)
