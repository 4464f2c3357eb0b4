# complete.bash - drives a bash completion function as bash does on TAB.
#   bash complete.bash SCRIPT FUNCTION WORD0 WORD1 ... CURRENT
# sources SCRIPT, sets COMP_WORDS to the words (the last one is the word
# being completed, "" for a new word), COMP_CWORD to its index, COMP_LINE
# and COMP_POINT, calls FUNCTION and prints COMPREPLY, one per line.
set -u
script=$1
func=$2
shift 2
# shellcheck disable=SC1090
. "$script"
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
COMP_TYPE=9
COMP_KEY=9
COMPREPLY=()
"$func" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" \
    "${COMP_WORDS[COMP_CWORD - 1]:-}"
[ "${#COMPREPLY[@]}" -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}"
