#!/bin/sh
# basics.sh - global options, help, version, exit codes of the program.
. "$top_srcdir/tests/cli/lib.sh"

run 0 --help
like "$T/out" '^Usage: retention ' "--help prints usage"
like "$T/out" '^Commands:' "--help lists commands"
is "$(wc -c <"$T/err" | tr -d ' ')" 0 "--help writes nothing on stderr"

run 0 -h
like "$T/out" '^Usage: retention ' "-h prints usage"

run 0 --version
like "$T/out" '^retention [0-9]+\.[0-9]+\.[0-9]+ \(libretention [0-9]+\.[0-9]+\.[0-9]+\)$' "--version"
version=$(sed -n 's/^retention \([^ ]*\) .*/\1/p' "$T/out")
like "$T/out" "libretention $version" "program and library versions agree"

run 2
like "$T/err" '^Usage: retention' "no command: usage on stderr"

run 2 frobnicate
is "$(head -1 "$T/err")" "retention: unknown command 'frobnicate'" "unknown command message"
is "$(sed -n 2p "$T/err")" "Try 'retention --help'." "unknown command hint"
is "$(wc -l <"$T/err" | tr -d ' ')" 2 "unknown command: one line plus a hint"
is "$(wc -c <"$T/out" | tr -d ' ')" 0 "unknown command: nothing on stdout"

run 2 --frobnicate
is "$(head -1 "$T/err")" "retention: unknown option '--frobnicate'" "unknown long option"
run 2 -Z help
is "$(head -1 "$T/err")" "retention: unknown option '-Z'" "unknown short option"
run 2 --color=purple help
like "$T/err" "invalid --color 'purple'" "bad --color value"
run 2 --progress=sometimes help
like "$T/err" "invalid --progress 'sometimes'" "bad --progress value"
run 2 -c
like "$T/err" "needs an argument" "-c without argument"

run 0 help
like "$T/out" '^Usage: retention ' "help command prints usage"
run 2 help frobnicate
like "$T/err" "unknown command 'frobnicate'" "help for an unknown command"

# Every listed command has --help, exits 0, and prints its usage.
for c in $(sed -n '/^Commands:/,/^$/p' "$T/out" | awk 'NR>1 && NF {print $1}'); do
    [ "$c" = help ] && continue
    run 0 "$c" --help
    like "$T/out" "[Uu]sage: retention $c" "$c --help prints its usage"
    run 0 help "$c"
    like "$T/out" "[Uu]sage: retention $c" "help $c prints its usage"
done

# Global options are accepted before the command.
run 0 -q -v --color=never --progress=never help
like "$T/out" '^Usage: retention ' "global options before the command"

done_testing
