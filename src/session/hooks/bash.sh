# pty-mcp shell integration for bash (OSC 133 marks; see src/session/shell-hooks.ts).
# One statement per line: the file is sourced after the user's rc, or typed as one line joined by "; ".
#
# PROMPT_COMMAND (a string, or an array since bash 5.1) becomes: our first entry, the user's entries
# exactly as they were, our last entry. First: D with the command's $? ($? and $_ are passed on
# unchanged). Last: PS1 wrapped in A…B after anything of the user's that rebuilt it (git prompts,
# liquidprompt, powerline), C appended to PS0 (shown after a line is read, before it runs; bash ≥ 4.4).
# A string is joined with newlines, so a trailing `;`, `&` or newline of the user's stays valid.
# The last entry puts ours back first and last when something added entries later (a framework that
# installs itself at the first prompt, the user; direnv's hook typed at a prompt goes first), and keeps the user's DEBUG trap blind to our entries:
# frameworks that re-arm their trap in their own last entry (bash-preexec, liquidprompt, starship)
# take the next command for the user's, and ours must not be it. Every expansion is `set -u` safe, and
# no command of ours fails under `set -e` (which ends an interactive shell too): a status is passed on
# as the left side of `&&` (`false && true` at the prompt must not end the shell), or in an `if`.
# Nothing forks at a prompt or around a command (a fork costs ~0.5 ms a prompt): `trap -p DEBUG`, which
# says nothing inside a function, is written by our last entry itself into a file of the session's
# ($__ptymcp_tf: set by whoever gives us this file, else one in $XDG_RUNTIME_DIR, else an unlinked one) and read back. With no
# such file (or when writing it fails) the last entry passes `$(trap -p DEBUG)` instead, one fork a prompt.
__ptymcp_ret() { return "$1"; }
__ptymcp_status() { local s=$?; printf '\033]133;D;%s\007' "$s"; return $s; }
# The user's DEBUG trap, for every command but ours, with $? and $_ as the trap would have seen them
# (set by a condition: a non-zero $? must not trip `set -e`).
__ptymcp_debug() { local s=$?; case ${FUNCNAME[1]-}:${BASH_COMMAND-} in __ptymcp_* | *:__ptymcp_* | *':trap -p DEBUG '*'$__ptymcp_tf'*) return 0 ;; esac; if __ptymcp_ret "$s" "$1"; then eval "${__ptymcp_user_debug-}"; else eval "${__ptymcp_user_debug-}"; fi; }
# Takes a DEBUG trap that is not ours yet ($1: `trap -p DEBUG`, which says nothing inside a function;
# read only when it is exactly that, bash's own quoting) into __ptymcp_debug. One installed during this prompt (bash-preexec installs itself at the first
# prompt) already fired for our last entry, which disarmed bash-preexec until the next prompt: it is
# armed again.
__ptymcp_trap() { local w; case $1 in *__ptymcp_debug*) return 0 ;; "trap -- '"*"' DEBUG") ;; *) return 0 ;; esac; eval "w=($1)"; __ptymcp_user_debug=${w[2]-}; trap '__ptymcp_debug "$_"' DEBUG; if [[ -n ${__bp_imported-}${bash_preexec_imported-} ]]; then __bp_preexec_interactive_mode=on; fi; }
__ptymcp_compose() { local a=$__ptymcp_first z=$__ptymcp_last e; if [[ -n ${PROMPT_COMMAND[*]+x} ]] && (( BASH_VERSINFO[0] * 100 + BASH_VERSINFO[1] >= 501 )) && [[ ${PROMPT_COMMAND@a} == *a* ]]; then local -a k=(); for e in "${PROMPT_COMMAND[@]}"; do e=${e//"$a"$'\n'/}; e=${e//$'\n'"$z"/}; [[ -z $e || $e == "$a" || $e == "$z" ]] || k+=("$e"); done; PROMPT_COMMAND=("$a" ${k[@]+"${k[@]}"} "$z"); else e=${PROMPT_COMMAND-}; e=${e//"$a"$'\n'/}; e=${e//$'\n'"$z"/}; PROMPT_COMMAND="$a"$'\n'"$e"$'\n'"$z"; fi; }
# $1: the status to leave ($? after the user's entries); $2: `trap -p DEBUG`, or the file our last entry has
# just written it to. Only string compares and anchored globs (a `*a*b` glob costs ~50 µs a prompt here).
__ptymcp_prompt() { local s=$1 t=${2-} j=${PROMPT_COMMAND[*]-}; if [[ -n $t && $t == "$__ptymcp_tf" ]]; then t=; IFS= read -r -d '' t <"$__ptymcp_tf" || :; t=${t%$'\n'}; fi; case ${PS1-} in *'133;B'*) ;; *) PS1='\[\033]133;A\007\]'"${PS1-}"'\[\033]133;B\007\]' ;; esac; case ${PS0-} in *'133;C'*) ;; *) PS0="${PS0-}"'\033]133;C\007' ;; esac; [[ $j == "$__ptymcp_first"* && ${j: -${#__ptymcp_last}} == "$__ptymcp_last" ]] || __ptymcp_compose; case $t in '' | *__ptymcp_debug*) ;; *) __ptymcp_trap "$t" ;; esac; return "$s"; }
# Installs it all from one top-level command (a DEBUG trap of the user's sees that one, at start-up).
# A read-only PROMPT_COMMAND cannot take the hook: nothing is changed, and the session is told why
# (an OSC 133 mark of ours that terminals ignore; get_session_state shows it).
__ptymcp_writable() { if [[ -n ${PROMPT_COMMAND+x} ]] && (( BASH_VERSINFO[0] * 100 + BASH_VERSINFO[1] >= 404 )); then case ${PROMPT_COMMAND@a} in *r*) return 1 ;; esac; return 0; fi; ( PROMPT_COMMAND= ) 2>/dev/null; }
# The file for `trap -p DEBUG`: the one we were given, else one in the user's private runtime dir, else an
# unlinked one (Linux /proc): mktemp makes it (0600, a random name, O_EXCL: no planted symlink is followed),
# the shell keeps it open on a fd of its own, and it is removed at once, so nothing is left behind however
# the shell ends and no EXIT trap is needed; /proc/$$/fd/N opens it again (at offset 0, `>|` truncates).
# A second fd on the same file is the check that N is still ours before each write (`-ef`: two stats): a user
# who later opens that number by hand (`exec 12>log`) or closes it must not have that file truncated at
# every prompt; from then on the fork a prompt. Two processes at install (mktemp, rm), none at a prompt.
# Else none (the fork a prompt).
__ptymcp_file() { __ptymcp_tf=${__ptymcp_tf-}; if [[ -n $__ptymcp_tf ]]; then return 0; fi; if [[ -n ${XDG_RUNTIME_DIR-} && -d $XDG_RUNTIME_DIR && -O $XDG_RUNTIME_DIR && -w $XDG_RUNTIME_DIR ]]; then __ptymcp_tf=$XDG_RUNTIME_DIR/pty-mcp-bash-$$.trap; elif [[ -d /proc/$$/fd ]] && (( BASH_VERSINFO[0] * 100 + BASH_VERSINFO[1] >= 401 )); then __ptymcp_unlinked; fi; }
__ptymcp_unlinked() { local f; f=$(umask 077 && command mktemp 2>/dev/null) || return 0; if [[ -z $f || -L $f ]]; then return 0; elif [[ -f $f && -O $f ]]; then :; else return 0; fi; if { exec {__ptymcp_fd}<>"$f" {__ptymcp_fd2}<"$f"; } 2>/dev/null; then command rm -f -- "$f" 2>/dev/null || :; if [[ -e /proc/$$/fd/$__ptymcp_fd ]]; then __ptymcp_tf=/proc/$$/fd/$__ptymcp_fd; fi; else command rm -f -- "$f" 2>/dev/null || :; fi; }
# True unless our unlinked file's fd was taken over or closed (the other files are paths: nothing to check).
__ptymcp_ours() { [[ -z ${__ptymcp_fd2-} || /proc/$$/fd/${__ptymcp_fd-} -ef /proc/$$/fd/$__ptymcp_fd2 ]]; }
__ptymcp_install() { __ptymcp_first='__ptymcp_status "$_" && __ptymcp_ret 0 "$_"'; __ptymcp_last='__ptymcp_s=$?; __ptymcp_ours && trap -p DEBUG 2>/dev/null >|"$__ptymcp_tf" || __ptymcp_tf=; __ptymcp_prompt "$__ptymcp_s" "${__ptymcp_tf:-$(trap -p DEBUG)}" && __ptymcp_ret 0'; __ptymcp_file; if __ptymcp_writable; then __ptymcp_compose; __ptymcp_trap "$1"; else printf '\033]133;pty-mcp-off;PROMPT_COMMAND is read-only\007'; fi; }
__ptymcp_install "$(trap -p DEBUG)"
