/* commands.h - one handler per cmd-*.c, listed in main.c's table. */
#ifndef RET_COMMANDS_H
#define RET_COMMANDS_H

#include "cli.h"

int cmd_anonymize(struct cli *g, int argc, char **argv);
int cmd_audit(struct cli *g, int argc, char **argv);
int cmd_erase(struct cli *g, int argc, char **argv);
int cmd_formats(struct cli *g, int argc, char **argv);
int cmd_help(struct cli *g, int argc, char **argv);
int cmd_parse(struct cli *g, int argc, char **argv);
int cmd_policy(struct cli *g, int argc, char **argv);
int cmd_prune(struct cli *g, int argc, char **argv);
int cmd_run(struct cli *g, int argc, char **argv);
int cmd_stats(struct cli *g, int argc, char **argv);

#endif /* RET_COMMANDS_H */
