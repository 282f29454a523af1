#!/usr/bin/env bash
# Installs what building, running and testing Countersign needs, and only what is missing:
# Debian/Ubuntu packages, a Rust toolchain, Node.js >= 20, the UI's npm packages and
# tauri-driver. Safe to run again; a second run does nothing.
source "$(dirname "$0")/lib.sh"

# Tauri's Linux build and run dependencies, the headless desktop (Xvfb, D-Bus, a Secret
# Service for the keyring), WebKit's WebDriver, screenshots, CJK fonts for the zh-CN UI,
# PostgreSQL for the test suite, and Python for schemathesis (scripts/schemathesis.sh).
PACKAGES=(
  build-essential pkg-config curl ca-certificates
  libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev
  libsoup-3.0-dev libdbus-1-dev libssl-dev
  xvfb dbus dbus-x11 x11-utils webkit2gtk-driver gnome-keyring libglib2.0-bin
  libsecret-tools imagemagick fonts-noto-cjk
  postgresql
  python3 python3-venv
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing system packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
  say "installing Rust (rustup, stable)"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy
fi
for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    rustup component add "$component"
  fi
done

node_major() { node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/'; }
if [ "$(node_major || echo 0)" -lt 20 ] 2>/dev/null || ! command -v node >/dev/null; then
  # Debian 12 and Ubuntu 24.04 ship Node 18; Vite 7 needs 20.19 or later.
  say "installing Node.js 20 into ~/.cache/countersign/node"
  arch=$(uname -m); case "$arch" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; esac
  version=v20.19.5
  mkdir -p "$HOME/.cache/countersign"
  curl -fsSL "https://nodejs.org/dist/$version/node-$version-linux-$arch.tar.xz" |
    tar -xJ -C "$HOME/.cache/countersign"
  rm -rf "$HOME/.cache/countersign/node"
  mv "$HOME/.cache/countersign/node-$version-linux-$arch" "$HOME/.cache/countersign/node"
fi

# npm ci only when the lock file changed since the last install.
if [ ! -f "$REPO_ROOT/ui/node_modules/.package-lock.json" ] ||
   [ "$REPO_ROOT/ui/package-lock.json" -nt "$REPO_ROOT/ui/node_modules/.package-lock.json" ]; then
  say "installing the UI's npm packages"
  (cd "$REPO_ROOT/ui" && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ "${1:-}" = "--test" ] && ! command -v tauri-driver >/dev/null; then
  say "installing tauri-driver (WebDriver for the desktop end-to-end tests)"
  cargo install tauri-driver --version 2.1.0 --locked --quiet
fi
