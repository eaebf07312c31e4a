"""The local Kafka broker: jars from Maven Central, KRaft single node, run on the JDK."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import shutil
import string
import subprocess
import uuid
from pathlib import Path

from . import ports, procs
from .config import KAFKA_HEAP, TOPIC_PARTITIONS, StackConfig
from .output import StackError, detail

_STAMP = ".installed"


def pom_path(config: StackConfig) -> Path:
    return config.deploy_dir / "kafka" / "pom.xml"


def _pom_digest(config: StackConfig) -> str:
    return hashlib.sha256(pom_path(config).read_bytes()).hexdigest()


def jars_installed(config: StackConfig) -> bool:
    """True when .local/kafka/lib holds the jars of the current pom.xml."""
    stamp = config.kafka_lib_dir / _STAMP
    return stamp.is_file() and stamp.read_text().strip() == _pom_digest(config)


def install_jars(config: StackConfig) -> None:
    """Copy Kafka and its runtime dependencies into .local/kafka/lib with Maven."""
    if shutil.which("mvn") is None:
        raise StackError("Maven (mvn) is not installed: apt-get install maven")
    lib = config.kafka_lib_dir
    shutil.rmtree(lib, ignore_errors=True)  # no stale jars from an older pom
    lib.mkdir(parents=True)
    result = procs.run_quiet(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(pom_path(config)),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={lib}",
            "-DincludeScope=runtime",
        ],
        cwd=config.repo_root,
        timeout=900,
    )
    if result.returncode != 0:
        raise StackError(f"mvn could not fetch the Kafka jars:\n{result.stdout}{result.stderr}")
    (lib / _STAMP).write_text(_pom_digest(config) + "\n")


def render_properties(template: str, config: StackConfig) -> str:
    """Fill the server.properties template with this stack's ports and paths."""
    return string.Template(template).substitute(
        host=config.kafka_host,
        port=config.kafka_port,
        controller_port=config.kafka_controller_port,
        data_dir=config.kafka_data_dir,
        partitions=TOPIC_PARTITIONS,
    )


def new_cluster_id() -> str:
    """A cluster id the way Kafka prints them: 16 random bytes, url-safe base64, no padding."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


def _properties_path(config: StackConfig) -> Path:
    return config.kafka_dir / "server.properties"


def _java() -> str:
    java = shutil.which("java")
    if java is None:
        raise StackError("java is not installed: a JDK 17+ is needed for the local Kafka")
    return java


def cds_archive(config: StackConfig) -> Path:
    """Class-data-sharing archive of the broker's classes, keyed by JVM build and jar set.

    The first start writes it when the JVM exits; later starts map it and load Kafka's and
    Scala's classes without parsing them again (a few seconds less on two busy cores).
    """
    java = Path(os.path.realpath(_java()))
    libjvm = java.parent.parent / "lib" / "server" / "libjvm.so"
    stamp = libjvm if libjvm.is_file() else java
    key = hashlib.sha256(
        f"{java}:{stamp.stat().st_mtime_ns}:{_pom_digest(config)}".encode()
    ).hexdigest()[:12]
    return config.kafka_dir / "cds" / f"kafka-{key}.jsa"


def _cds_options(config: StackConfig) -> list[str]:
    archive = cds_archive(config)
    if archive.is_file():
        return [f"-XX:SharedArchiveFile={archive}", "-Xlog:cds=off", "-Xlog:cds+dynamic=off"]
    # Archives of another JVM build or jar set are useless now.
    shutil.rmtree(archive.parent, ignore_errors=True)
    archive.parent.mkdir(parents=True)
    return [f"-XX:ArchiveClassesAtExit={archive}", "-Xlog:cds=off", "-Xlog:cds+dynamic=off"]


def _java_argv(config: StackConfig, main: str, *args: str, cds: bool = False) -> list[str]:
    return [
        _java(),
        *(_cds_options(config) if cds else []),
        f"-Xmx{KAFKA_HEAP}",
        "-Xms256m",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={config.deploy_dir / 'kafka' / 'log4j2.xml'}",
        "-cp",
        f"{config.kafka_lib_dir}/*",
        main,
        *args,
    ]


def prepare(config: StackConfig) -> None:
    """Write server.properties and format the storage once (cluster id kept in .local)."""
    template = (config.deploy_dir / "kafka" / "server.properties.template").read_text()
    config.kafka_dir.mkdir(parents=True, exist_ok=True)
    _properties_path(config).write_text(render_properties(template, config))
    if (config.kafka_data_dir / "meta.properties").is_file():
        return
    id_file = config.kafka_dir / "cluster.id"
    if not id_file.is_file():
        id_file.write_text(new_cluster_id() + "\n")
    detail(f"kafka: formatting {config.kafka_data_dir}")
    result = procs.run_quiet(
        _java_argv(
            config,
            "kafka.tools.StorageTool",
            "format",
            "-t",
            id_file.read_text().strip(),
            "-c",
            str(_properties_path(config)),
        ),
        cwd=config.kafka_dir,
        timeout=120,
    )
    if result.returncode != 0:
        raise StackError(f"formatting Kafka storage failed:\n{result.stdout}{result.stderr}")


def start(config: StackConfig, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start the broker (KRaft, broker + controller in one JVM) as our child."""
    return procs.spawn(
        _java_argv(config, "kafka.Kafka", str(_properties_path(config)), cds=True),
        log_path=config.log_path("kafka"),
        env=env,
        cwd=config.kafka_dir,
    )


async def _metadata_answers(bootstrap: str) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient  # the venv has it; keep `stop` import-light

    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="stopclock-devstack", request_timeout_ms=5000
    )
    try:
        await admin.start()
        cluster = await admin.describe_cluster()
        return bool(cluster.get("brokers"))
    except Exception:  # any failure means "not yet"; the caller retries until its deadline
        return False
    finally:
        await admin.close()


def wait_ready(config: StackConfig, proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Block until the broker accepts connections and answers a metadata request."""

    def ready() -> bool:
        return ports.is_open(config.kafka_host, config.kafka_port) and asyncio.run(
            _metadata_answers(config.kafka_bootstrap)
        )

    procs.wait_started("kafka", proc, ready, config.log_path("kafka"), timeout, poll=0.3)
