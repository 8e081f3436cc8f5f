# bash completion for hopscope(1)
_hopscope()
{
    local cur prev
    COMPREPLY=()
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    case $prev in
        -r|-w|-o|-k)
            COMPREPLY=($(compgen -f -- "$cur"))
            compopt -o filenames 2>/dev/null
            return ;;
        -i)
            COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null) any" -- "$cur"))
            return ;;
        -Z)
            COMPREPLY=($(compgen -u -- "$cur"))
            return ;;
        -F|--format)
            COMPREPLY=($(compgen -W "json text" -- "$cur"))
            return ;;
        --creds|--dot|--html|--expect|--write-expect)
            COMPREPLY=($(compgen -f -- "$cur"))
            compopt -o filenames 2>/dev/null
            return ;;
        --time-stamp-precision)
            COMPREPLY=($(compgen -W "micro nano" -- "$cur"))
            return ;;
        --evidence)
            COMPREPLY=($(compgen -d -- "$cur"))
            compopt -o filenames 2>/dev/null
            return ;;
        -c|-s|-B|--idle-timeout|--max-flows|--hop-window|--stats-interval|--threads|--max-memory|--sensor)
            return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "-r -i -o -w -k -c -s -B -p -D -Z -n -f -q -v -F --format --stats-interval --threads --stream --no-stream --time-stamp-precision --immediate-mode --idle-timeout --max-flows --hop-window --creds --max-memory --dot --html --expect --write-expect --evidence --sensor --records -h --help -V --version" -- "$cur"))
        return
    fi
    # with --records the arguments are files of records, not a filter expression
    local w
    for w in "${COMP_WORDS[@]}"; do
        if [[ $w == --records ]]; then
            COMPREPLY=($(compgen -f -- "$cur"))
            compopt -o filenames 2>/dev/null
            return
        fi
    done
}
complete -F _hopscope hopscope
