#!/usr/bin/env bash
# Install a Debian package the test suite needs, once:  .ci/debian-package.sh PACKAGE FILE_GLOB
#   postgresql — server binaries for the tests where several `hcr tune` workers share one study; the tests start a
#                throwaway cluster of their own on 127.0.0.1 (initdb, pg_ctl) and stop it after
#   chromium   — the browser that Playwright drives in the tests of `hcr serve` (never Playwright's own download)
# Idempotent: returns at once when FILE_GLOB matches. Installing needs root (or password-less sudo); without it
# this says so loudly, and the tests that need the package are skipped with that reason.
set -euo pipefail
package="$1"
installed="$2"

if compgen -G "$installed" >/dev/null; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    echo "*** .ci/debian-package.sh: $package is not installed and installing it needs root" \
         "(apt-get install $package); the tests that need it will be SKIPPED ***" >&2
    exit 0
fi
echo "Installing $package from Debian's packages (once)..." >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "$package" >/dev/null
