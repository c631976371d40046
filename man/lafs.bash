# bash completion for lafs
_lafs_complete() {
  local cur="${COMP_WORDS[COMP_CWORD]}"
  local request=("${COMP_WORDS[@]:0:$COMP_CWORD}")
  [[ "$cur" == -* ]] && request+=("$cur")
  COMPREPLY=($(compgen -W "$("${request[@]}" --generate-bash-completion 2>/dev/null)" -- "$cur"))
}
complete -o bashdefault -o default -F _lafs_complete lafs
