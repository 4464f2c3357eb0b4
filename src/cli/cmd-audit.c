/*
 * cmd-audit.c - `retention audit`: report every source holding records
 * older than the policy allows; exit 3 if any. The options and the work
 * are shared with prune (cmd-prune.c).
 */
#include "config.h"

#include "commands.h"

int prune_driver(struct cli *g, int argc, char **argv, int mode);

int
cmd_audit(struct cli *g, int argc, char **argv)
{
    return prune_driver(g, argc, argv, 1);
}
