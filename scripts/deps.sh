# Installs the Debian packages a task needs, if any are missing.
# Sourced by scripts/demo and scripts/test; needs root or sudo.
#
# Usage: ensure_packages PKG...

ensure_packages() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -eq 0 ] && [ "${CI:-}" != "true" ]; then
        return 0
    fi
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "need root or sudo to install: ${missing[*]}" >&2; return 1; }
        sudo="sudo"
    fi
    echo "installing Debian packages: ${missing[*]:-(refresh in CI)} $*" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# What building Gatehouse needs (Pingora builds zlib-ng with cmake).
BUILD_PACKAGES=(build-essential cmake pkg-config ca-certificates)

# What the test suite talks to: real Redis, real TOTP codes, a real browser,
# a real SMTP server (aiosmtpd, run by tests/support/smtp_sink.py), openssl
# as a TLS client that trickles a request head, and nginx and Caddy as
# forward-auth clients.
TEST_PACKAGES=(redis-server postgresql oathtool chromium chromium-driver python3 python3-aiosmtpd curl procps util-linux openssl nginx caddy)
