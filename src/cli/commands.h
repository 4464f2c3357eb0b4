/* commands.h - one handler per cmd-*.c, listed in main.c's table. */
#ifndef RET_COMMANDS_H
#define RET_COMMANDS_H

#include "cli.h"

int cmd_help(struct cli *g, int argc, char **argv);

#endif /* RET_COMMANDS_H */
