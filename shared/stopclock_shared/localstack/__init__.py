"""The local stack supervisor.

`python -m stopclock_shared.localstack {install|run|stop|status|test|bench}`.

No Docker: PostgreSQL and Prometheus from the OS packages, Kafka (KRaft) from the official jars
on Maven Central, an aiosmtpd mail catcher writing a Maildir, and the five services, all run as
children of one supervisor process with their state under `.local/` of the repository.
Defaults (ports, secrets, paths) live in ``config.StackConfig``. The supervisor itself uses the
standard library only; aiokafka and aiosmtpd are imported where Kafka and SMTP are spoken.
"""

from .config import StackConfig, load

__all__ = ["StackConfig", "load"]
