#!/bin/sh
# Install guard for a CI job from guard's own sources (this script's
# repository), never from the checkout being judged: run inside it, a
# branch's rust-toolchain.toml could name a toolchain of its own (whose cargo
# installs a fake guard) and its .cargo/config.toml could wrap the compiler.
# Usage: ci/install-guard.sh        (GUARD_TOOLCHAIN: the toolchain, default stable)
set -eu
if command -v guard >/dev/null 2>&1; then
    exit 0
fi
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
RUSTUP_TOOLCHAIN=${GUARD_TOOLCHAIN:-stable}
export RUSTUP_TOOLCHAIN
exec cargo install --locked --quiet --path "$here"
