/*
 * cmd-run.c - `retention run`: the daily job. For each category of the
 * policy: statistics ingest, then due anonymization and deletion in one
 * pass over each file, then the audit. Shared with prune (cmd-prune.c).
 */
#include "config.h"

#include "commands.h"

int prune_driver(struct cli *g, int argc, char **argv, int mode);

int
cmd_run(struct cli *g, int argc, char **argv)
{
    return prune_driver(g, argc, argv, 2);
}
