"""`install`: what the stack needs beyond the Python venv, each step skipped when done.

- OS packages (apt): `postgresql`, `prometheus` (and its `promtool`), `chromium` (the survey
  page's browser tests drive it headless);
- Kafka jars from Maven Central into .local/kafka/lib;
- kustomize (for the Kubernetes manifest tests) when neither `kustomize` nor `kubectl kustomize`
  is on the machine: built with `go install` into .local/bin.

The venv itself is made by the Makefile before this runs.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from . import kafka, postgres, procs, prometheus
from .config import StackConfig
from .output import StackError, detail, say

# Debian's policy-rc.d protocol: exit 101 means "do not start services during this install".
_POLICY_RC_D = Path("/usr/sbin/policy-rc.d")


def missing_packages() -> list[str]:
    """The apt packages still to install (empty when everything is there)."""
    missing = []
    if postgres.bin_dir() is None:
        missing.append("postgresql")
    if not prometheus.installed():
        missing.append("prometheus")
    if shutil.which("chromium") is None:
        missing.append("chromium")
    return missing


def kustomize_available(config: StackConfig) -> bool:
    if (config.repo_root / ".local" / "bin" / "kustomize").exists() or shutil.which("kustomize"):
        return True
    if shutil.which("kubectl") is None:
        return False
    probe = procs.run_quiet(["kubectl", "kustomize", "--help"], env=dict(os.environ), timeout=60)
    return probe.returncode == 0


def _apt_install(packages: list[str], config: StackConfig) -> None:
    if os.geteuid() != 0:
        raise StackError(f"missing OS packages {', '.join(packages)}: run `sudo make install` once")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    log = config.log_path("install")
    log.parent.mkdir(parents=True, exist_ok=True)
    # Keep the packages' own daemons (a cluster on :5432, prometheus on :9090) from starting.
    own_policy = not _POLICY_RC_D.exists()
    if own_policy:
        _POLICY_RC_D.write_text("#!/bin/sh\n# written by stopclock devstack install\nexit 101\n")
        _POLICY_RC_D.chmod(0o755)
    try:
        for argv in (
            ["apt-get", "update", "-q"],
            ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages],
        ):
            detail(" ".join(argv))
            result = procs.run_quiet(argv, env=env, timeout=1800)
            with log.open("a") as f:
                f.write(f"$ {' '.join(argv)}\n{result.stdout}{result.stderr}\n")
            if result.returncode != 0:
                raise StackError(f"`{' '.join(argv)}` failed (see {log}):\n{result.stderr[-2000:]}")
    finally:
        if own_policy:
            _POLICY_RC_D.unlink(missing_ok=True)


def install(config: StackConfig) -> None:
    """Install whatever is missing; prints one line per step, 'ok' for steps already done."""
    started = time.monotonic()
    say("install: OS packages")
    packages = missing_packages()
    if packages:
        _apt_install(packages, config)
        if "prometheus" in packages and prometheus.stop_debian_service():
            detail("stopped the Debian prometheus service (it would hold :9090)")
        if missing_packages():
            raise StackError(f"still missing after apt-get: {', '.join(missing_packages())}")
    detail(f"postgresql: ok ({postgres.bin_dir()})")
    detail(f"prometheus: ok ({prometheus.BINARY})")

    say("install: Kafka jars (Maven Central -> .local/kafka/lib)")
    if kafka.jars_installed(config):
        detail("kafka: ok")
    else:
        t0 = time.monotonic()
        kafka.install_jars(config)
        detail(f"kafka: fetched in {time.monotonic() - t0:.1f} s")

    say("install: kustomize")
    if kustomize_available(config):
        detail("kustomize: ok")
    else:
        script = config.repo_root / "deploy" / "k8s" / "install-kustomize.sh"
        result = procs.run_quiet(["bash", str(script)], env=dict(os.environ), timeout=900)
        if result.returncode != 0:
            raise StackError(f"kustomize install failed:\n{result.stderr[-2000:]}")
        detail("kustomize: built into .local/bin")
    say(f"install: done in {time.monotonic() - started:.1f} s")
