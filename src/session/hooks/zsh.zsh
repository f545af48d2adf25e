# pty-mcp shell integration for zsh (OSC 133 marks; see src/session/shell-hooks.ts).
# One statement per line: the file is sourced after the user's .zshrc, or typed as one line joined by "; ".
#
# D (with $?) and A from a precmd function put first, so it sees the command's status. B ends PS1,
# added by a precmd function put last, after whatever the user's precmd functions did to PROMPT
# (powerlevel9k, oh-my-zsh themes rebuild it at every prompt). A theme that moves its own precmd
# behind ours later (powerlevel10k) leaves PS1 without B: then B comes from a zle-line-init hook
# (add-zle-hook-widget, zsh ≥ 5.3), when ZLE starts reading a command line (CONTEXT=start, not a
# continuation line), which is after the prompt is drawn whatever widgets redraw (syntax highlighting,
# autosuggestions). C from preexec, appended.
__ptymcp_precmd() { local s=$?; print -n "\e]133;D;$s\a\e]133;A\a"; return $s; }
__ptymcp_ps1() { local s=$?; [[ "$PS1" == *'133;B'* ]] || PS1="$PS1"$'%{\e]133;B\a%}'; return $s; }
__ptymcp_line_init() { [[ $CONTEXT == start ]] || return 0; [[ "$PS1" == *'133;B'* ]] || print -n "\e]133;B\a"; return 0; }
__ptymcp_preexec() { print -n "\e]133;C\a"; }
typeset -ga precmd_functions preexec_functions
precmd_functions=(__ptymcp_precmd ${precmd_functions:#__ptymcp_*} __ptymcp_ps1)
preexec_functions+=(__ptymcp_preexec)
autoload -Uz add-zle-hook-widget 2>/dev/null && [[ -o zle ]] && add-zle-hook-widget zle-line-init __ptymcp_line_init
