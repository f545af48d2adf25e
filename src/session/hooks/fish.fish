# pty-mcp shell integration for fish (OSC 133 marks; see src/session/shell-hooks.ts).
# One statement per line: the file is sourced after the user's config, or typed as one line joined by "; ".
#
# C from fish_preexec, D with the status from fish_postexec, a bare D at each new prompt (the
# fish_prompt event: an empty line runs no postexec, and a B without a D since the last one is taken
# for a redraw of the same prompt), A and B around the user's fish_prompt (wrapped again at each
# fish_prompt event when something defined a new one: an autoloaded file, fish_config). fish 4 prints A, C and D itself: then only B is ours.
set -g __ptymcp_own 1; string match -qr '^([4-9]|\d\d)' -- $version; and set __ptymcp_own 0
function __ptymcp_preexec --on-event fish_preexec; test $__ptymcp_own = 1; and printf '\e]133;C\a'; end
function __ptymcp_line_end --on-event fish_prompt; printf '\e]133;D\a'; end
function __ptymcp_postexec --on-event fish_postexec; set -l s $status; test $__ptymcp_own = 1; and printf '\e]133;D;%s\a' $s; end
function __ptymcp_wrap --on-event fish_prompt; functions -q fish_prompt; or return; functions fish_prompt | string match -q '*__ptymcp_user_prompt*'; and return; functions -e __ptymcp_user_prompt; functions -c fish_prompt __ptymcp_user_prompt; function fish_prompt; test $__ptymcp_own = 1; and printf '\e]133;A\a'; __ptymcp_user_prompt; printf '\e]133;B\a'; end; end
