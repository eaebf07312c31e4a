#!/usr/bin/env bash
# Installs the kustomize that the ops tests (tests/unit/ops) use into .local/bin, built from the
# Go module proxy with the machine's Go (about a minute the first time, nothing after).
# Optional where kubectl is installed: the tests fall back to `kubectl kustomize`.
set -euo pipefail

version="${KUSTOMIZE_VERSION:-v5.5.0}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="${repo}/.local/bin"
stamp="${bin}/.kustomize-version"

if [[ -x "${bin}/kustomize" && "$(cat "${stamp}" 2>/dev/null)" == "${version}" ]]; then
  exit 0
fi
command -v go > /dev/null || { echo "install-kustomize: go is not installed" >&2; exit 1; }
mkdir -p "${bin}"
GOBIN="${bin}" GOFLAGS=-mod=mod go install "sigs.k8s.io/kustomize/kustomize/v5@${version}"
echo "${version}" > "${stamp}"
echo "kustomize ${version} installed in ${bin}"
