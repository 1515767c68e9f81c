# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# lib.sh — shared helpers of the VM runner scripts (sourced, not run).

vm_log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
vm_die() { printf '%s: error: %s\n' "${0##*/}" "$*" >&2; exit 2; }

# vm_apt_get ARGS... — apt-get that waits for the package system instead of
# failing on its lock: scripts/test installs from its background VM boots,
# its builds and the host suite at once. flock serialises this project's own
# calls (the lists lock of `apt-get update` has no timeout of its own);
# DPkg::Lock::Timeout waits out anyone else's.
vm_apt_get() {
  (
    flock -w 900 9 || vm_die "the package system stayed locked for 900 s"
    apt-get -o DPkg::Lock::Timeout=900 "$@"
  ) 9>/run/lock/rfutex-apt.lock
}

# vm_ensure_packages PKG... — install the Debian packages that are missing.
# Quick no-op when all are present; `apt-get update` only when the first
# install attempt fails (a fresh machine has no package lists).
vm_ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
      missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || vm_die "missing packages (need root to install): ${missing[*]}"
  vm_log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! vm_apt_get install -y -q --no-install-recommends "${missing[@]}" >&2; then
    vm_apt_get update -q >&2 || vm_die "apt-get update failed"
    vm_apt_get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
      vm_die "cannot install ${missing[*]}"
  fi
}
