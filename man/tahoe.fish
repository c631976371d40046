# fish completion for tahoe: candidates come from 'tahoe __complete WORDS...',
# which only lists names and never runs a command.
function _tahoe_complete
    set -l words (commandline -opc)
    set -e words[1]
    tahoe __complete $words (commandline -ct) 2>/dev/null
end
complete -c tahoe -a '(_tahoe_complete)'
