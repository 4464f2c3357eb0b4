#!/bin/sh
# completion.sh - the bash completion of contrib/bash-completion/retention,
# driven as bash drives it on TAB: COMP_WORDS/COMP_CWORD set, the function
# called, COMPREPLY checked. First against a stand-in program whose help
# text is known (so that every path of the script is exercised whatever
# commands are built), then against the built retention.
. "$top_srcdir/tests/cli/lib.sh"

command -v bash >/dev/null || skip_all "bash not installed"
script="$top_srcdir/contrib/bash-completion/retention"
drive="$top_srcdir/tests/integration/complete.bash"

# comp WORD0 WORD1 ... CURRENT: the completions, sorted, in $T/comp.
comp() {
    bash "$drive" "$script" _retention "$@" | sort >"$T/comp"
}
# has WORD DESCRIPTION: $T/comp holds WORD.
has() {
    if grep -qxF -- "$1" "$T/comp"; then ok 0 "$2"; else
        ok 1 "$2"
        sed 's/^/#   offered: /' "$T/comp" | head -20
    fi
}
hasnt() {
    if grep -qxF -- "$1" "$T/comp"; then
        ok 1 "$2"
    else ok 0 "$2"; fi
}

# ---- a stand-in program with a known help text ----------------------
fake="$T/bin/retention"
mkdir -p "$T/bin"
cat >"$fake" <<'EOF'
#!/bin/sh
# A stand-in for retention: help texts shaped like the real ones.
[ "$1" = -c ] && { conf=$2; shift 2; }
case "$*" in
--help)
    cat <<'HELP'
Usage: retention [OPTIONS] COMMAND [ARGS...]

Options:
  -c, --config PATH     policy file
  -q, --quiet           print only errors
      --color=WHEN      auto, always or never (default auto)

Commands:
  frob           frobnicate logs
  formats        the format presets
  help           show help for a command
  policy         validate and explain the policy
  tables         list tables

Run 'retention COMMAND --help'.
HELP
    ;;
"frob --help")
    cat <<'HELP'
Usage: retention frob [OPTIONS] [-F text|csv|json] [FILE...]
  -f, --format FMT       log format (see retention formats)
  -m, --mode M           truncate|zero|hash (default truncate)
      --category NAME    only this category
  -o, --output FILE      write there
      --depth N          how deep
      --strict           fail on bad lines
  -F, --report F         text (default), csv or json
      --untimed=keep|delete  lines without a time
Example: retention frob zzexample.log
HELP
    ;;
"policy --help")
    cat <<'HELP'
Usage: retention policy check|explain [FILE]
       retention policy decide CATEGORY TIME [--completed TIME] [--held]
HELP
    ;;
"policy decide --help")
    echo "Usage: retention policy decide CATEGORY TIME [--completed TIME] [--held]"
    echo "  -p, --policy FILE      the policy"
    ;;
"policy explain")
    case ${conf:-} in
    *good*) printf 'category zeta-logs: kept 90 days\n  deleted after 90d\ncategory alpha-sms: kept 90 days\n' ;;
    *paren*) printf 'web-x (Test GmbH, version 1, effective 2020-01-01)\n  source: files (format combined)\n\nsms-x (Test GmbH, version 1)\n  deleted (by day 89)\n' ;;
    *) echo "retention: policy: no policy" >&2; exit 2 ;;
    esac
    ;;
formats)
    printf 'combined   %%h %%l %%u %%t "%%r" %%>s %%b "%%{Referer}i" "%%{User-Agent}i"\n'
    printf 'myfmt      %%h %%t\n'
    printf 'nginx      $remote_addr - $remote_user [$time_local]\n'
    ;;
*) exit 2 ;;
esac
EOF
chmod +x "$fake"

comp "$fake" ""
is "$(tr '\n' ' ' <"$T/comp")" "formats frob help policy tables " "commands from --help"
comp "$fake" fr
is "$(cat "$T/comp")" frob "a command prefix"
comp "$fake" --
has --config "global option --config"
has --color "global option --color"
has --quiet "global option --quiet"
hasnt --format "no command option before the command"
comp "$fake" --color ""
is "$(tr '\n' ' ' <"$T/comp")" "always auto never " "--color values"
comp "$fake" --color=al
is "$(cat "$T/comp")" always "--color=VALUE in one word"
comp "$fake" --color = ""
is "$(tr '\n' ' ' <"$T/comp")" "always auto never " "--color= split at = as bash does"
comp "$fake" --color = never fr
is "$(cat "$T/comp")" frob "a command after --color=never split at ="
comp "$fake" --config = "$T/good.conf" frob --category ""
is "$(tr '\n' ' ' <"$T/comp")" "alpha-sms zeta-logs " "--config=POLICY split at = as bash does"
comp "$fake" -q --
has --config "global options after a global option"
comp "$fake" help ""
has frob "help completes command names"
comp "$fake" frob --
for o in --format --mode --category --output --depth --strict; do
    has "$o" "frob option $o from its help"
done
hasnt -f "only long options after --"
comp "$fake" frob -
for o in -f -m -o --format --strict; do
    has "$o" "frob option $o after -"
done
hasnt --config "global options are not offered after the command"
comp "$fake" frob --de
is "$(cat "$T/comp")" --depth "option prefix"
comp "$fake" frob -f ""
is "$(tr '\n' ' ' <"$T/comp")" "combined myfmt nginx " "formats from 'retention formats'"
comp "$fake" frob --format ""
is "$(tr '\n' ' ' <"$T/comp")" "combined myfmt nginx " "the same after --format"
comp "$fake" frob --format=my
is "$(cat "$T/comp")" myfmt "--format=PREFIX"
comp "$fake" frob --mode ""
is "$(tr '\n' ' ' <"$T/comp")" "hash truncate zero " "values listed as a|b|c in the help"
comp "$fake" frob --report ""
is "$(tr '\n' ' ' <"$T/comp")" "csv json text " "values listed as -F a|b|c in the usage, for the alias --report"
comp "$fake" frob -F ""
is "$(tr '\n' ' ' <"$T/comp")" "csv json text " "the same for -F"
comp "$fake" frob --untimed=
is "$(tr '\n' ' ' <"$T/comp")" "delete keep " "values of --opt=a|b"
comp "$fake" frob --untimed = ""
is "$(tr '\n' ' ' <"$T/comp")" "delete keep " "values of --opt=, split at = as bash does"
comp "$fake" frob --untimed = k
is "$(tr '\n' ' ' <"$T/comp")" "keep " "values of --opt=PREFIX, split at = as bash does"
comp "$fake" frob --untimed ""
is "$(tr '\n' ' ' <"$T/comp")" "delete keep " "the same as a separate word"
comp "$fake" frob --depth ""
is "$(wc -l <"$T/comp" | tr -d ' ')" 0 "no guess for a numeric value"
: >"$T/good.conf"
comp "$fake" -c "$T/good.conf" frob --category ""
is "$(tr '\n' ' ' <"$T/comp")" "alpha-sms zeta-logs " "categories from 'policy explain' of -c POLICY"
: >"$T/paren.conf"
comp "$fake" -c "$T/paren.conf" frob --category ""
is "$(tr '\n' ' ' <"$T/comp")" "sms-x web-x " "categories from 'policy explain' as NAME (...)"
comp "$fake" policy decide -p "$T/paren.conf" ""
is "$(tr '\n' ' ' <"$T/comp")" "sms-x web-x " "policy decide -p POLICY: its categories"
comp "$fake" policy --
has --held "options of a command with subcommands"
comp "$fake" --config="$T/good.conf" policy decide ""
is "$(tr '\n' ' ' <"$T/comp")" "alpha-sms zeta-logs " "policy decide: a category first"
comp "$fake" -c "$T/good.conf" policy decide zeta-logs ""
is "$(wc -l <"$T/comp" | tr -d ' ')" 0 "policy decide: no category as the time"
# When the program cannot explain the policy, its category lines are read.
cat >"$T/other.conf" <<'EOF'
policy {
    name "Test"
}
# category not-this-one
category web-access-zq {
    delete after 90d
}
  category "contact-form-zq" {
    delete after completion
}
EOF
comp "$fake" -c "$T/other.conf" frob --category ""
is "$(tr '\n' ' ' <"$T/comp")" "contact-form-zq web-access-zq " "categories read from the policy file"
mkdir "$T/pol.d"
cp "$T/other.conf" "$T/pol.d/a.conf"
printf 'category sms-zq {\n}\n' >"$T/pol.d/b.conf"
printf 'category ignored-zq {\n}\n' >"$T/pol.d/c.txt"
RETENTION_CONF="$T/pol.d"
export RETENTION_CONF
comp "$fake" frob --category ""
unset RETENTION_CONF
is "$(tr '\n' ' ' <"$T/comp")" "contact-form-zq sms-zq web-access-zq " "categories of \$RETENTION_CONF, a directory of *.conf"
comp "$fake" policy ""
is "$(tr '\n' ' ' <"$T/comp")" "check decide explain " "subcommands from the command's usage"
comp "$fake" policy ch
is "$(cat "$T/comp")" check "subcommand prefix"
comp "$fake" policy decide --
has --held "subcommand options from its own help"
comp "$fake" frob zz
is "$(wc -l <"$T/comp" | tr -d ' ')" 0 "frob has no subcommands (its example line is not one)"
: >"$T/access.log"
: >"$T/access.log.1"
comp "$fake" frob "$T/acc"
is "$(tr '\n' ' ' <"$T/comp")" "$T/access.log $T/access.log.1 " "files as operands"
comp "$fake" frob -o "$T/access.log."
is "$(cat "$T/comp")" "$T/access.log.1" "files as the value of --output"
comp "$fake" -c "$T/oth"
is "$(cat "$T/comp")" "$T/other.conf" "files as the value of -c"
comp "$T/bin/no-such-program" ""
is "$(wc -l <"$T/comp" | tr -d ' ')" 0 "nothing when the program is missing"

# ---- the built retention ---------------------------------------------
"$RETENTION" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR>1 && NF {print $1}' |
    sort >"$T/cmds"
comp "$RETENTION" ""
same_file "$T/comp" "$T/cmds" "retention: every command of --help, nothing else"
comp "$RETENTION" --
for o in --config --quiet --verbose --color --progress --help --version; do
    has "$o" "retention: global option $o"
done
while read -r c; do
    [ "$c" = help ] && continue
    "$RETENTION" "$c" --help 2>/dev/null |
        grep -oE -- '(^|[ ,[])--[a-z][a-z0-9-]*' | sed 's/^[ ,[]*//' | sort -u >"$T/opts"
    comp "$RETENTION" "$c" --
    missing=$(comm -23 "$T/opts" "$T/comp" | tr '\n' ' ')
    is "$missing" "" "retention $c: every long option of its help is offered"
done <"$T/cmds"
if grep -qx anonymize "$T/cmds"; then
    comp "$RETENTION" anonymize -f ""
    has combined "retention anonymize -f: the combined preset"
    comp "$RETENTION" anonymize --method ""
    is "$(tr '\n' ' ' <"$T/comp")" "hash truncate zero " "retention anonymize --method values"
fi
if grep -qx formats "$T/cmds"; then
    "$RETENTION" formats >"$T/formats"
    like "$T/formats" '^combined[[:space:]]' "retention formats lists combined first in its line"
fi
if grep -qx policy "$T/cmds"; then
    cat >"$T/real.conf" <<'EOF'
policy {
    name       "Test"
    controller "Test GmbH"
    version    1.0
    effective  2020-01-01
    schedule   daily
    state      /nonexistent/retention
}
category web-zq {
    files      /nonexistent/access.log*
    format     combined
    delete     after 90d
}
category sms-zq {
    table   sqlite:/nonexistent/portal.db sms_log time=sent_at
    delete  after 90d
}
EOF
    chmod 600 "$T/real.conf"
    comp "$RETENTION" -c "$T/real.conf" policy decide ""
    is "$(tr '\n' ' ' <"$T/comp")" "sms-zq web-zq " "retention policy decide: the categories of -c POLICY"
    # The same names as 'policy explain' gives, read through the program:
    # a category that only the program can see (an example policy).
    ex="$top_srcdir/examples/stadtwerke-bochum-netz.conf"
    if [ -f "$ex" ] && "$RETENTION" -c "$ex" policy explain >"$T/explain" 2>/dev/null; then
        comp "$RETENTION" -c "$ex" prune --category ""
        has web-access "retention prune --category: web-access of the example policy"
        has installer-portal "retention prune --category: installer-portal of the example policy"
        hasnt personal "no word of the explanation taken for a category"
    fi
fi

# ---- installed by make install ----------------------------------------
like "$top_builddir/Makefile" '^bashcompletiondir = \$\(datadir\)/bash-completion/completions' \
    "installed into datadir/bash-completion/completions"
bash -n "$script"
ok $? "the script parses in bash"

done_testing
