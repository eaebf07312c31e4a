"""The local stack supervisor: development tooling, not part of any service image.

`python -m devstack {install|run|stop|status|test|bench|chaos}` (what `make` runs), from the
repository root: this package is imported from there, like ``bench/``, and is never installed.

No Docker: PostgreSQL and Prometheus from the OS packages, Kafka (KRaft) from the official jars
on Maven Central, an aiosmtpd mail catcher writing a Maildir, and the five services, all run as
children of one supervisor process with their state under `.local/` of the repository.
Defaults (ports, secrets, paths) live in ``config.StackConfig``. The supervisor itself uses the
standard library (and ``stopclock_shared`` for the shared defaults); aiokafka and aiosmtpd are
imported where Kafka and SMTP are spoken.
"""

from .config import StackConfig, load

__all__ = ["StackConfig", "load"]
