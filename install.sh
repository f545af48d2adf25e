#!/bin/sh
# pty-mcp installer (POSIX sh).
#
#   curl -fsSL https://github.com/pty-mcp/pty-mcp/releases/latest/download/install.sh | sh
#   sh install.sh                     standalone: installs pty-mcp and an ai-tmux link into INSTALL_DIR
#   sh install.sh --plugin            Claude Code plugin (SessionStart hook and scripts/launch.sh): installs into
#                                     ${CLAUDE_PLUGIN_DATA}/bin (kept across plugin updates), else ${CLAUDE_PLUGIN_ROOT}/bin
#   sh install.sh --print-target      prints the release asset this machine needs and exits
#
# Environment:
#   INSTALL_DIR               standalone target directory (default: $HOME/.local/bin)
#   PTY_MCP_VERSION           version to install, e.g. 0.1.0 (default: latest; the plugin pins its own version)
#   PTY_MCP_RELEASE_BASE      URL or local directory holding pty-mcp-<os>-<arch>[-variant] and SHA256SUMS
#   PTY_MCP_TARGET            asset suffix to install instead of the detected one, e.g. linux-arm64-musl
#   PTY_MCP_CONNECT_TIMEOUT   seconds to wait for a connection (default 15)
#   PTY_MCP_DOWNLOAD_TIMEOUT  seconds one download attempt may take (default 600)
#   PTY_MCP_DOWNLOAD_RETRIES  extra attempts after a failed download (default 3)
#
# Every binary is checked against SHA256SUMS: a missing entry or a mismatch installs nothing.
# The compressed asset (pty-mcp-<target>.gz) is preferred when SHA256SUMS lists it and gzip is
# there; both it and the binary it unpacks to are checked. Files are downloaded into a temp
# directory inside the target directory (removed on every exit) and renamed into place, so a
# running pty-mcp never sees half a binary. One install at a time per target directory: a second
# one (the plugin's hook and its launcher start together) waits for the lock, then finds the
# binary installed.
#
# plugin/scripts/install.sh is a byte-for-byte copy of this file (the plugin directory ships on its
# own); after editing, run `bun scripts/build.ts --sync-plugin`. A test fails when they differ.

set -eu

# The one place the release location is written. Everything else derives from it.
PTY_MCP_REPO_URL="https://github.com/pty-mcp/pty-mcp"

say() { printf 'pty-mcp install: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

mode=standalone
case "${1:-}" in
  "") ;;
  --plugin) mode=plugin ;;
  --print-target) mode=print-target ;;
  -h | --help) sed -n '2,24p' "$0" 2>/dev/null | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument '$1' (use --plugin, --print-target or no argument)" ;;
esac

# --- platform -----------------------------------------------------------------------------

# Prints the asset suffix (linux-x64, linux-x64-baseline, linux-arm64, linux-x64-musl,
# linux-arm64-musl, darwin-x64, darwin-arm64) for this machine.
detect_target() {
  _os=$(uname -s)
  _arch=$(uname -m)
  case "$_os" in
    Linux) _os=linux ;;
    Darwin) _os=darwin ;;
    *) die "unsupported OS '$_os': pty-mcp builds exist for Linux and macOS" ;;
  esac
  case "$_arch" in
    x86_64 | amd64) _arch=x64 ;;
    aarch64 | arm64 | armv8*) _arch=arm64 ;;
    *) die "unsupported CPU '$_arch': pty-mcp builds exist for x86-64 and arm64" ;;
  esac
  if [ "$_os" = darwin ]; then
    # A shell running under Rosetta 2 reports x86_64 on Apple silicon; the native build is faster.
    if [ "$_arch" = x64 ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || true)" = 1 ]; then
      _arch=arm64
    fi
    echo "darwin-$_arch"
    return
  fi
  if is_musl; then
    echo "linux-$_arch-musl"
  elif [ "$_arch" = x64 ] && [ -r /proc/cpuinfo ] && ! grep '^flags' /proc/cpuinfo | grep -qw avx2; then
    # Bun's default x64 runtime needs AVX2 (Haswell, 2013+); older CPUs get the baseline build.
    echo "linux-x64-baseline"
  else
    echo "linux-$_arch"
  fi
}

# musl (Alpine, Void musl…) vs glibc. getconf answers GNU_LIBC_VERSION only on glibc; a glibc
# system may have musl installed beside it, so the loader files alone decide only without getconf.
is_musl() {
  if getconf GNU_LIBC_VERSION >/dev/null 2>&1; then return 1; fi
  if command -v ldd >/dev/null 2>&1 && ldd --version 2>&1 | grep -qi musl; then return 0; fi
  for _f in /lib/ld-musl-*.so.1; do [ -e "$_f" ] && return 0; done
  return 1
}

# --- downloads and checksums -------------------------------------------------------------------

connect_timeout=${PTY_MCP_CONNECT_TIMEOUT:-15}
download_timeout=${PTY_MCP_DOWNLOAD_TIMEOUT:-600}
retries=${PTY_MCP_DOWNLOAD_RETRIES:-3}
for _n in "$connect_timeout" "$download_timeout" "$retries"; do
  case "$_n" in '' | *[!0-9]*) die "timeouts and retries must be whole numbers of seconds (got '$_n')" ;; esac
done

# Runs a download in the background and waits, so HUP/INT/TERM interrupt the wait at once and
# the EXIT trap stops the download and removes the temp directory.
child=
run_child() {
  "$@" &
  child=$!
  _child_rc=0
  wait "$child" 2>/dev/null || _child_rc=$?
  child=
  return "$_child_rc"
}

# fetch NAME OUTFILE [optional]: copies $base/NAME to OUTFILE (base is a URL or a directory).
# With "optional", a file the release does not have returns 1 instead of failing the install.
fetch() {
  case "$base" in
    http://* | https://*)
      _url="${base%/}/$1"
      if command -v curl >/dev/null 2>&1; then
        _rc=0
        run_child curl --fail --silent --location --proto '=http,https' \
          --connect-timeout "$connect_timeout" --max-time "$download_timeout" \
          --retry "$retries" --retry-delay 1 --retry-connrefused \
          --output "$2" -- "$_url" || _rc=$?
        if [ "$_rc" -eq 22 ] && [ "${3:-}" = optional ]; then return 1; fi
        if [ "$_rc" -ne 0 ]; then
          case "$_rc" in
            28) _why="timed out (connect ${connect_timeout}s, transfer ${download_timeout}s)" ;;
            6 | 7) _why="could not connect" ;;
            22) _why="the server answered with an error (wrong version or release base?)" ;;
            35 | 51 | 53 | 54 | 58 | 59 | 60 | 77 | 80 | 82 | 83 | 90 | 91) _why="TLS failed (curl exit code $_rc): check the system's CA certificates and clock" ;;
            *) _why="curl exit code $_rc" ;;
          esac
          die "download of $_url failed after $((retries + 1)) attempts: $_why. Check the network, or set PTY_MCP_RELEASE_BASE to a reachable mirror or a local directory."
        fi
      elif command -v wget >/dev/null 2>&1; then
        if [ "${3:-}" = optional ]; then
          wget_fetch "$_url" "$2" || return 1
          return 0
        fi
        wget_fetch "$_url" "$2" ||
          die "download of $_url failed after $((retries + 1)) attempts (wget exit $?). Check the network, or set PTY_MCP_RELEASE_BASE to a reachable mirror or a local directory."
      else
        die "neither curl nor wget is installed; install one, or set PTY_MCP_RELEASE_BASE to a local directory"
      fi
      ;;
    *)
      _dir=${base#file://}
      [ -d "$_dir" ] || die "PTY_MCP_RELEASE_BASE '$base' is neither an http(s) URL nor a directory"
      if [ ! -f "$_dir/$1" ] && [ "${3:-}" = optional ]; then return 1; fi
      [ -f "$_dir/$1" ] || die "$_dir/$1 does not exist; the release directory must hold pty-mcp-<os>-<arch>[-variant] and SHA256SUMS"
      cp -- "$_dir/$1" "$2"
      ;;
  esac
}

# wget_fetch URL OUTFILE: GNU wget retries by itself. BusyBox wget (Alpine's default, no curl)
# has no retry option, and its -T is compiled out of some builds (Debian's 1.35 then segfaults),
# so it gets `timeout` and the retries from here.
wget_fetch() {
  if wget --version 2>/dev/null | grep -q 'GNU Wget'; then
    # --no-config/--no-hsts: wget would otherwise read and write files in $HOME.
    run_child wget --quiet --no-config --no-hsts --connect-timeout="$connect_timeout" --timeout="$download_timeout" \
      --tries="$((retries + 1))" --waitretry=1 --retry-connrefused --output-document="$2" -- "$1"
    return
  fi
  _try=0
  while :; do
    _wrc=0
    if command -v timeout >/dev/null 2>&1; then
      run_child timeout "$download_timeout" wget -q -O "$2" "$1" || _wrc=$?
    else
      run_child wget -q -O "$2" "$1" || _wrc=$?
    fi
    [ "$_wrc" -ne 0 ] || return 0
    _try=$((_try + 1))
    [ "$_try" -le "$retries" ] || return "$_wrc"
    sleep 1
  done
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum -- "$1" | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 -- "$1" | cut -d ' ' -f 1
  elif command -v openssl >/dev/null 2>&1; then
    openssl dgst -sha256 -r -- "$1" | cut -d ' ' -f 1
  else
    die "no SHA-256 tool found (sha256sum, shasum or openssl); refusing to install an unverified binary"
  fi
}

# listed_sum SUMSFILE NAME: the digest listed for NAME (sha256sum format, text or binary mode), or nothing.
listed_sum() {
  awk -v n="$2" '$2 == n || $2 == "*" n { print tolower($1); exit }' "$1"
}

# expected_sum SUMSFILE NAME: the hex digest listed for NAME; fails when there is none or it is malformed.
expected_sum() {
  _sum=$(listed_sum "$1" "$2")
  [ -n "$_sum" ] || die "SHA256SUMS has no entry for $2; refusing to install an unverified binary"
  case "$_sum" in *[!0-9a-f]*) die "SHA256SUMS entry for $2 is not a SHA-256 digest; refusing to install" ;; esac
  [ "${#_sum}" -eq 64 ] || die "SHA256SUMS entry for $2 is not a SHA-256 digest; refusing to install"
  echo "$_sum"
}

# --- main ---------------------------------------------------------------------------------------

# Everything runs from this function, called on the last line: a `curl | sh` cut short runs nothing.
main() {
target=${PTY_MCP_TARGET:-}
[ -n "$target" ] || target=$(detect_target)
case "$target" in
  linux-x64 | linux-x64-baseline | linux-arm64 | linux-x64-musl | linux-arm64-musl | darwin-x64 | darwin-arm64) ;;
  *) die "unknown target '$target' (linux-x64, linux-x64-baseline, linux-arm64, linux-x64-musl, linux-arm64-musl, darwin-x64, darwin-arm64)" ;;
esac
asset="pty-mcp-$target"

if [ "$mode" = print-target ]; then
  echo "$target"
  exit 0
fi

version=${PTY_MCP_VERSION:-}
if [ "$mode" = plugin ]; then
  [ -n "${CLAUDE_PLUGIN_ROOT:-}" ] ||
    die "CLAUDE_PLUGIN_ROOT is not set. This mode runs from the pty-mcp Claude Code plugin's SessionStart hook; to install by hand, run install.sh without --plugin (INSTALL_DIR chooses where)."
  [ -d "$CLAUDE_PLUGIN_ROOT" ] || die "CLAUDE_PLUGIN_ROOT '$CLAUDE_PLUGIN_ROOT' is not a directory"
  manifest="$CLAUDE_PLUGIN_ROOT/.claude-plugin/plugin.json"
  [ -f "$manifest" ] || die "$manifest is missing; reinstall the pty-mcp plugin"
  # The plugin's version pins the binary's, so a plugin update brings the matching binary.
  [ -n "$version" ] || version=$(sed -n 's/^[[:space:]]*"version"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$manifest" | head -n 1)
  [ -n "$version" ] || die "no \"version\" in $manifest; reinstall the pty-mcp plugin"
  # CLAUDE_PLUGIN_DATA survives plugin updates; without it (older Claude Code), the plugin's own bin/.
  if [ -n "${CLAUDE_PLUGIN_DATA:-}" ]; then dest_dir="$CLAUDE_PLUGIN_DATA/bin"; else dest_dir="$CLAUDE_PLUGIN_ROOT/bin"; fi
else
  dest_dir=${INSTALL_DIR:-${HOME:?HOME is not set; set INSTALL_DIR}/.local/bin}
fi
case "$version" in *[!0-9A-Za-z.+-]*) die "PTY_MCP_VERSION '$version' is not a version number" ;; esac
dest="$dest_dir/pty-mcp"

if [ -n "${PTY_MCP_RELEASE_BASE:-}" ]; then
  base=$PTY_MCP_RELEASE_BASE
elif [ -n "$version" ]; then
  base="$PTY_MCP_REPO_URL/releases/download/v$version"
else
  base="$PTY_MCP_REPO_URL/releases/latest/download"
fi

lock="$dest_dir/.pty-mcp-install.lock"
locked=0
cleanup() {
  if [ -n "$child" ]; then kill "$child" 2>/dev/null || true; fi
  if [ -n "${work:-}" ]; then rm -rf -- "$work"; fi
  if [ "$locked" = 1 ]; then rm -rf -- "$lock"; fi
}

# A real executable, not the plugin's bin/pty-mcp shim (a script that would start this installer again).
is_binary() {
  [ -f "$1" ] && [ -x "$1" ] && [ "$(head -c 2 -- "$1" 2>/dev/null)" != "#!" ]
}

installed_version() {
  is_binary "$dest" || return 0
  "$dest" --version </dev/null 2>/dev/null | sed -n 's/^pty-mcp \([^ ]*\)$/\1/p' | head -n 1 || true
}

# take_lock: one install at a time in $dest_dir (mkdir is atomic). A lock whose owner is gone
# (killed with SIGKILL) is taken over; a live owner is waited for, up to the download timeout.
take_lock() {
  _waited=0
  _said=0
  while ! mkdir -- "$lock" 2>/dev/null; do
    _owner=$(cat -- "$lock/pid" 2>/dev/null || true)
    if [ -n "$_owner" ] && ! kill -0 "$_owner" 2>/dev/null; then
      # Move the stale lock aside under our own name first, so two takers never remove a fresh one.
      if mv -- "$lock" "$lock.stale.$$" 2>/dev/null; then
        if [ "$(cat -- "$lock.stale.$$/pid" 2>/dev/null || true)" = "$_owner" ]; then
          say "removed a stale install lock (pid $_owner is gone)"
          rm -rf -- "$lock.stale.$$"
        else
          mv -- "$lock.stale.$$" "$lock" 2>/dev/null || rm -rf -- "$lock.stale.$$"
        fi
      fi
      continue
    fi
    if [ "$_said" = 0 ]; then
      say "waiting for another install into $dest_dir (pid ${_owner:-unknown})"
      _said=1
    fi
    [ "$_waited" -lt "$((download_timeout * (retries + 1) + 30))" ] || die "another install into $dest_dir (pid ${_owner:-unknown}) has held $lock for ${_waited}s; remove it if no install is running"
    sleep 1
    _waited=$((_waited + 1))
  done
  locked=1
  echo "$$" >"$lock/pid"
}

# Skipping needs no network: the session start stays instant once the binary is there.
already_installed() {
  [ -n "$version" ] && [ "$(installed_version)" = "$version" ]
}
if already_installed; then
  say "pty-mcp $version is already installed at $dest"
  [ "$mode" = plugin ] && exit 0
  skip_binary=1
else
  skip_binary=0
fi

mkdir -p -- "$dest_dir" || die "cannot create $dest_dir"
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
take_lock
if [ "$skip_binary" = 0 ] && already_installed; then
  # Installed by the install we waited for.
  say "pty-mcp $version is already installed at $dest"
  [ "$mode" = plugin ] && exit 0
  skip_binary=1
fi
work=$(mktemp -d "$dest_dir/.pty-mcp-install.XXXXXX") || die "cannot create a temp directory in $dest_dir"

if [ "$skip_binary" = 0 ]; then
  fetch SHA256SUMS "$work/SHA256SUMS"
  want=$(expected_sum "$work/SHA256SUMS" "$asset")
  if is_binary "$dest" && [ "$(sha256 "$dest")" = "$want" ]; then
    say "$dest is already the current release ($asset)"
  else
    got_gz=0
    want_gz=$(listed_sum "$work/SHA256SUMS" "$asset.gz")
    if [ -n "$want_gz" ] && command -v gzip >/dev/null 2>&1; then
      say "downloading $asset.gz from $base"
      if fetch "$asset.gz" "$work/$asset.gz" optional; then
        got=$(sha256 "$work/$asset.gz")
        [ "$got" = "$want_gz" ] ||
          die "checksum mismatch for $asset.gz (SHA256SUMS says $want_gz, the download is $got); refusing to install it. The download is corrupt or was tampered with."
        gzip -dc <"$work/$asset.gz" >"$work/$asset" || die "$asset.gz does not unpack (gzip failed); refusing to install it"
        rm -f -- "$work/$asset.gz"
        got_gz=1
      else
        say "$asset.gz is not in the release; downloading $asset"
      fi
    fi
    if [ "$got_gz" = 0 ]; then
      say "downloading $asset from $base"
      fetch "$asset" "$work/$asset"
    fi
    got=$(sha256 "$work/$asset")
    [ "$got" = "$want" ] ||
      die "checksum mismatch for $asset (SHA256SUMS says $want, the download is $got); refusing to install it. The download is corrupt or was tampered with."
    chmod 755 "$work/$asset"
    mv -f -- "$work/$asset" "$dest"
    say "installed $("$dest" --version </dev/null 2>/dev/null || echo "$asset") at $dest"
  fi
fi

[ "$mode" = plugin ] && exit 0

# ai-tmux: the original Go tool's name; the binary acts as `pty-mcp ai-tmux` when called so.
ln -s pty-mcp "$work/ai-tmux"
mv -f -- "$work/ai-tmux" "$dest_dir/ai-tmux"

path_note=
case ":${PATH:-}:" in
  *":$dest_dir:"*) ;;
  *) path_note="
Note: $dest_dir is not on your PATH; add it, e.g. export PATH=\"$dest_dir:\$PATH\"
" ;;
esac
cat <<EOF

pty-mcp is installed: $dest (and ai-tmux -> pty-mcp)
$path_note
Register it with your MCP client (BUN_GC_TIMER_DISABLE=1: less CPU while idle; optional):
  Claude Code:     claude mcp add -e BUN_GC_TIMER_DISABLE=1 pty-mcp -- $dest
  Claude Desktop,  Cursor (~/.cursor/mcp.json) and others:
                   { "mcpServers": { "pty-mcp": { "command": "$dest", "env": { "BUN_GC_TIMER_DISABLE": "1" } } } }
  VS Code (.vscode/mcp.json):
                   { "servers": { "pty-mcp": { "type": "stdio", "command": "$dest", "env": { "BUN_GC_TIMER_DISABLE": "1" } } } }
EOF
}

main "$@"
