#!/bin/sh
# The plugin's MCP server command (.mcp.json): starts the installed pty-mcp at once, or installs
# it first (scripts/install.sh --plugin: the same checksums as install.sh, and its lock, so this and
# the SessionStart hook never install twice; the second one waits and finds the binary) and then
# starts it. So the first session after `/plugin install` has the tools.
#
# stdout is the MCP channel: nothing but the server may write to it; messages go to stderr.
# The binary: ${CLAUDE_PLUGIN_DATA}/bin/pty-mcp (kept across plugin updates), else
# ${CLAUDE_PLUGIN_ROOT}/bin/pty-mcp (Claude Code versions without CLAUDE_PLUGIN_DATA).
set -eu
root=${CLAUDE_PLUGIN_ROOT:-$(cd -- "$(dirname -- "$0")/.." && pwd -P)}
if [ -n "${CLAUDE_PLUGIN_DATA:-}" ]; then bin="$CLAUDE_PLUGIN_DATA/bin/pty-mcp"; else bin="$root/bin/pty-mcp"; fi

# bin/pty-mcp in the plugin is a shim script until the binary replaces it (no CLAUDE_PLUGIN_DATA).
is_binary() {
  [ -f "$1" ] && [ -x "$1" ] && [ "$(head -c 2 -- "$1" 2>/dev/null)" != "#!" ]
}

if ! is_binary "$bin"; then
  printf 'pty-mcp launch: %s is not installed yet; installing it\n' "$bin" >&2
  CLAUDE_PLUGIN_ROOT=$root sh "$root/scripts/install.sh" --plugin </dev/null >&2 ||
    { printf 'pty-mcp launch: error: the install failed (above); the pty-mcp tools are unavailable until it succeeds (reconnect from /mcp)\n' >&2; exit 1; }
fi
# Bun's idle GC timer off for the server (RUNTIME_SETTINGS in src/child-env.ts, the same for the
# daemon; the sessions' programs do not get it): Bun reads it only at start, so it is set here.
BUN_GC_TIMER_DISABLE=1
export BUN_GC_TIMER_DISABLE
exec "$bin" "$@"
