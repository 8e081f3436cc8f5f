# bash completion for hopscope(1)
_hopscope()
{
    local cur prev
    COMPREPLY=()
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    case $prev in
        -r|-w|-k)
            COMPREPLY=($(compgen -f -- "$cur"))
            compopt -o filenames 2>/dev/null
            return ;;
        -i)
            COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null) any" -- "$cur"))
            return ;;
        -F|--format)
            COMPREPLY=($(compgen -W "json text" -- "$cur"))
            return ;;
        -c|--idle-timeout|--max-flows)
            return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "-r -i -w -k -c -F --format --idle-timeout --max-flows -h --help -V --version" -- "$cur"))
    fi
}
complete -F _hopscope hopscope
