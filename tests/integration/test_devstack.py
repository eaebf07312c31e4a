"""The local stack that `make test` starts: every part is there and wired as documented."""

from __future__ import annotations

import asyncio
import mailbox
import os
import smtplib
from email.message import EmailMessage
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from devstack import kafka, leftovers, mailcatcher, ports, procs, status, topics
from devstack.config import SERVICE_PORTS, StackConfig
from stopclock_shared.testing.stack import Stack, unique


@pytest.fixture(scope="module")
def config() -> StackConfig:
    return StackConfig.from_env(os.environ)


@pytest.mark.parametrize("service", list(SERVICE_PORTS))
async def test_each_service_role_logs_into_its_own_database(
    config: StackConfig, service: str
) -> None:
    dsn = config.database_url(service).replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn)
    try:
        row = await connection.fetchrow("SELECT current_user, current_database()")
    finally:
        await connection.close()
    assert row is not None
    assert tuple(row) == (f"stopclock_{service}", f"stopclock_{service}")


async def test_admin_dsn_exported_to_tests_is_a_superuser(config: StackConfig) -> None:
    connection = await asyncpg.connect(
        os.environ.get("STOPCLOCK_PG_ADMIN_URL", config.pg_admin_url)
    )
    try:
        is_super = await connection.fetchval(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        )
        max_connections = await connection.fetchval("SHOW max_connections")
    finally:
        await connection.close()
    assert is_super is True
    assert max_connections == "300"


async def test_every_contract_topic_and_its_dlq_has_twelve_partitions(stack: Stack) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka)
    await admin.start()
    try:
        described = await admin.describe_topics(topics.all_topic_names())
    finally:
        await admin.close()
    partitions = {t["topic"]: len(t["partitions"]) for t in described if t["error_code"] == 0}
    assert partitions == dict.fromkeys(topics.all_topic_names(), 12)


async def test_broker_refuses_to_auto_create_a_topic(stack: Stack) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka)
    await admin.start()
    try:
        name = unique("no-such-topic")
        described = await admin.describe_topics([name])
        listed = await admin.list_topics()
    finally:
        await admin.close()
    assert described[0]["error_code"] != 0
    assert name not in listed


async def test_mail_sent_to_the_catcher_can_be_read_with_mailbox_maildir(
    config: StackConfig, stack: Stack
) -> None:
    subject = unique("devstack-probe")
    message = EmailMessage()
    message["From"] = "probe@stopclock.test"
    message["To"] = "someone@stopclock.test"
    message["Subject"] = subject
    message.set_content("hello from the stack test")

    def send() -> None:
        with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=10) as smtp:
            smtp.send_message(message)

    await asyncio.to_thread(send)
    subjects = [m["Subject"] for m in mailbox.Maildir(stack.maildir, create=False)]
    assert subject in subjects


def test_mail_catcher_pid_file_names_the_live_catcher(config: StackConfig) -> None:
    pid_file = Path(os.environ.get("STOPCLOCK_MAILCATCHER_PIDFILE", config.pid_path("mailcatcher")))
    pid = procs.read_pid(pid_file)
    assert pid is not None
    assert procs.is_alive(pid)
    assert mailcatcher.MODULE in procs.cmdline(pid)
    assert pid in ports.listeners(config.smtp_port)


@pytest.mark.parametrize("service", list(SERVICE_PORTS))
def test_each_service_is_ready_at_its_exported_url(stack: Stack, service: str) -> None:
    response = httpx.get(stack.url(service) + "/readyz", timeout=5)
    assert response.status_code == 200


def test_prometheus_scrapes_the_five_services(config: StackConfig) -> None:
    url = os.environ.get("STOPCLOCK_PROMETHEUS_URL", config.prometheus_url)
    response = httpx.get(f"{url}/api/v1/targets", timeout=5)
    assert response.status_code == 200
    targets = response.json()["data"]["activeTargets"]
    scraped = {t["labels"]["service"]: t["scrapeUrl"] for t in targets}
    assert scraped == {
        service: f"http://127.0.0.1:{port}/metrics" for service, port in SERVICE_PORTS.items()
    }


def test_every_part_runs_with_its_pid_file_and_port(config: StackConfig) -> None:
    for part, numbers in leftovers.part_ports(config).items():
        pid = procs.read_pid(config.pid_path(part))
        assert pid is not None, part
        assert procs.is_ours(pid, config, strict=True), part
        assert pid in ports.listeners(numbers[0]), part


def test_tests_get_the_documented_environment(config: StackConfig) -> None:
    env = config.test_env()
    expected = {
        "STOPCLOCK_KAFKA_BOOTSTRAP",
        "STOPCLOCK_PG_ADMIN_URL",
        "STOPCLOCK_MAILDIR",
        "STOPCLOCK_REPO_ROOT",
        "STOPCLOCK_JWT_SECRET",
        "STOPCLOCK_INBOUND_SMTP_HOST",
        "STOPCLOCK_INBOUND_SMTP_PORT",
        *(f"STOPCLOCK_{s.upper()}_URL" for s in SERVICE_PORTS),
    }
    assert expected <= set(env)
    assert Path(env["STOPCLOCK_MAILDIR"]).is_absolute()


def environ_of(pid: int) -> dict[str, str]:
    entries = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    pairs = (entry.decode("utf-8", "replace").partition("=") for entry in entries if entry)
    return {key: value for key, _, value in pairs}


def test_the_notification_service_listens_for_mail_to_the_desk_where_the_stack_says(
    config: StackConfig,
) -> None:
    pid = procs.read_pid(config.pid_path("notification"))
    assert pid is not None
    env = environ_of(pid)
    assert env["STOPCLOCK_INBOUND_SMTP_HOST"] == config.inbound_smtp_host
    assert env["STOPCLOCK_INBOUND_SMTP_PORT"] == str(config.inbound_smtp_port)
    assert config.inbound_smtp_port in leftovers.part_ports(config)["notification"]
    assert pid in ports.listeners(config.inbound_smtp_port)


async def test_the_inbound_smtp_listener_greets_and_says_hello(config: StackConfig) -> None:
    def hello() -> tuple[int, int]:
        with smtplib.SMTP(config.inbound_smtp_host, config.inbound_smtp_port, timeout=10) as smtp:
            code, _ = smtp.ehlo("devstack-test.example.com")
            noop, _ = smtp.noop()
            return code, noop

    assert await asyncio.to_thread(hello) == (250, 250)


def test_status_lists_the_inbound_smtp_listener_open(config: StackConfig) -> None:
    rows = {row[0]: row for row in status.rows(config)}
    inbound = rows[status.INBOUND_PART]
    assert inbound[1] == rows["notification"][1]  # the same process
    assert inbound[2:4] == [str(config.inbound_smtp_port), "open"]


@pytest.mark.parametrize(
    ("bootstrap", "expected_line"),
    [
        ("127.0.0.1:9092", "listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"),
        ("127.0.0.1:19092", "listeners=PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:9093"),
    ],
)
def test_broker_properties_follow_the_bootstrap_setting(
    config: StackConfig, bootstrap: str, expected_line: str
) -> None:
    custom = StackConfig.from_env({"STOPCLOCK_KAFKA_BOOTSTRAP": bootstrap}, config.repo_root)
    template = (config.deploy_dir / "kafka" / "server.properties.template").read_text()
    rendered = kafka.render_properties(template, custom).splitlines()
    assert expected_line in rendered
    assert "auto.create.topics.enable=false" in rendered
    assert "num.partitions=12" in rendered


def test_listen_sockets_are_found_by_port_in_proc_net_tcp() -> None:
    table = (
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid"
        "  timeout inode\n"
        "   0: 0100007F:2384 00000000:0000 0A 00000000:00000000 00:00000000 00000000"
        "     0        0 4242 1 0000000000000000 100 0 0 10 0\n"
        "   1: 0100007F:2384 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000"
        "     0        0 4343 1 0000000000000000 20 4 30 10 -1\n"
    )
    assert ports.parse_listen_inodes(table, 9092) == {4242}
    assert ports.parse_listen_inodes(table, 9093) == set()
