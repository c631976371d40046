# fish completion for lafs: candidates come from 'lafs __complete WORDS...',
# which only lists names and never runs a command.
function _lafs_complete
    set -l words (commandline -opc)
    set -e words[1]
    lafs __complete $words (commandline -ct) 2>/dev/null
end
complete -c lafs -a '(_lafs_complete)'
