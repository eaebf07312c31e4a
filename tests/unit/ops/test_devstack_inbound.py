"""The local stack knows the notification service's inbound SMTP port (mail to the desk):
it tells the service where to listen, checks the port is free at start, and `make status`
shows whether the listener is open. Real sockets, no stack needed."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import leftovers, status
from devstack.config import StackConfig
from devstack.output import StackError
from stopclock_shared.testing.processes import free_port


@pytest.fixture
def listening() -> Iterator[int]:
    """A port this test process listens on (a foreign holder, as far as the stack knows)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def a_config(tmp_path: Path, inbound_port: int, **env: str) -> StackConfig:
    """A stack rooted in ``tmp_path`` (no pid files) whose ports nobody else uses."""
    environ = {"STOPCLOCK_INBOUND_SMTP_PORT": str(inbound_port), **env}
    config = StackConfig.from_env(environ, tmp_path)
    ports = {name: free_port() for name in config.service_ports}
    return StackConfig(
        repo_root=tmp_path,
        inbound_smtp_host=config.inbound_smtp_host,
        inbound_smtp_port=config.inbound_smtp_port,
        service_ports=ports,
    )


def test_the_inbound_listener_defaults_to_loopback_port_2525(tmp_path: Path) -> None:
    config = StackConfig.from_env({}, tmp_path)
    assert (config.inbound_smtp_host, config.inbound_smtp_port) == ("127.0.0.1", 2525)


def test_the_inbound_listener_follows_the_environment(tmp_path: Path) -> None:
    config = StackConfig.from_env(
        {"STOPCLOCK_INBOUND_SMTP_HOST": "127.0.0.2", "STOPCLOCK_INBOUND_SMTP_PORT": "12525"},
        tmp_path,
    )
    assert (config.inbound_smtp_host, config.inbound_smtp_port) == ("127.0.0.2", 12525)


def test_services_and_tests_are_told_where_mail_to_the_desk_goes(tmp_path: Path) -> None:
    config = StackConfig.from_env({"STOPCLOCK_INBOUND_SMTP_PORT": "12525"}, tmp_path)
    for env in (config.process_env({}), config.test_env()):
        assert env["STOPCLOCK_INBOUND_SMTP_HOST"] == "127.0.0.1"
        assert env["STOPCLOCK_INBOUND_SMTP_PORT"] == "12525"


def test_the_service_listens_where_the_stack_checked_whatever_the_base_env_says(
    tmp_path: Path,
) -> None:
    # The stack checks and shows the port it read; the service must listen on that one.
    config = StackConfig.from_env({}, tmp_path)
    env = config.process_env({"STOPCLOCK_INBOUND_SMTP_PORT": "9999"})
    assert env["STOPCLOCK_INBOUND_SMTP_PORT"] == "2525"


def test_the_notification_service_owns_its_http_and_its_smtp_port(tmp_path: Path) -> None:
    config = a_config(tmp_path, 12525)
    owned = leftovers.part_ports(config)
    assert owned["notification"] == [config.service_ports["notification"], 12525]
    assert all(12525 not in numbers for part, numbers in owned.items() if part != "notification")


def test_start_refuses_an_inbound_port_held_by_another_process(
    tmp_path: Path, listening: int
) -> None:
    config = a_config(tmp_path, listening)
    with pytest.raises(StackError, match=f"port {listening} \\(needed by notification\\)"):
        leftovers.check_ports_free(config, ["notification"])


def test_start_accepts_a_free_inbound_port(tmp_path: Path) -> None:
    leftovers.check_ports_free(a_config(tmp_path, free_port()), ["notification"])


def status_row(config: StackConfig) -> list[str]:
    table = status.rows(config)
    names = [row[0] for row in table]
    assert names.index(status.INBOUND_PART) == names.index("notification") + 1
    (row,) = [row for row in table if row[0] == status.INBOUND_PART]
    return row


def test_status_shows_the_inbound_listener_open(tmp_path: Path, listening: int) -> None:
    row = status_row(a_config(tmp_path, listening))
    assert row[2:4] == [str(listening), "open"]
    assert row[4].endswith("notification.log")


def test_status_shows_the_inbound_listener_closed(tmp_path: Path) -> None:
    port = free_port()
    assert status_row(a_config(tmp_path, port))[2:4] == [str(port), "closed"]


def test_status_renders_the_inbound_row(tmp_path: Path, listening: int) -> None:
    rendered = status.render(a_config(tmp_path, listening))
    assert "notification inbound SMTP" in rendered
