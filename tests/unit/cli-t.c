/* cli-t.c - the CLI plumbing: progress bar text, colors, exit codes. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "../../src/cli/cli.h"
#include "../tap.h"

static void
test_progress_format(void)
{
    char buf[256];

    cli_progress_format(buf, sizeof(buf), "anonymize", 512 * 1024,
                        1024 * 1024, 2.0, 10);
    is_str(buf, "anonymize [#####.....]  50%  512.0 KiB / 1.0 MiB  "
                "256.0 KiB/s  ETA 0:02",
           "half-way bar with rate and ETA");
    cli_progress_format(buf, sizeof(buf), "x", 1024 * 1024, 1024 * 1024, 1.0,
                        10);
    is_str(buf, "x [##########] 100%  1.0 MiB / 1.0 MiB  1.0 MiB/s  done",
           "finished bar");
    cli_progress_format(buf, sizeof(buf), "stdin", 3 * 1024 * 1024, 0, 1.5,
                        10);
    is_str(buf, "stdin  3.0 MiB  2.0 MiB/s", "unknown total: no bar");
    cli_progress_format(buf, sizeof(buf), "y", 2048, 1024, 0, 10);
    ok(strstr(buf, "100%") != NULL, "done beyond total is clamped");
    cli_progress_format(buf, 16, "a-long-label-here", 1, 2, 1, 30);
    ok(strlen(buf) == 15, "a short buffer is not overrun");
}

static void
test_progress_modes(void)
{
    struct cli g = {0};
    struct cli_progress p;

    g.progress = CLI_ALWAYS;
    cli_progress_start(&p, &g, "x", 10);
    ok(p.on, "--progress=always shows the bar");
    p.on = false;
    g.progress = CLI_NEVER;
    cli_progress_start(&p, &g, "x", 10);
    ok(!p.on, "--progress=never hides it");
    g.progress = CLI_ALWAYS;
    g.quiet = 1;
    cli_progress_start(&p, &g, "x", 10);
    ok(!p.on, "-q hides it");
    g.quiet = 0;
    g.progress = CLI_AUTO;
    cli_progress_start(&p, &g, "x", 10);
    ok(!p.on, "auto: hidden when stderr is not a terminal");
}

static void
test_colors(void)
{
    struct cli g = {0};

    g.color = CLI_ALWAYS;
    is_str(cli_sgr(&g, stdout, CLI_RED), "\033[31m", "--color=always");
    g.color = CLI_NEVER;
    is_str(cli_sgr(&g, stdout, CLI_RED), "", "--color=never");
    g.color = CLI_AUTO;
    setenv("TERM", "xterm", 1);
    unsetenv("NO_COLOR");
    is_str(cli_sgr(&g, stdout, CLI_RED), "", "auto: no color off a terminal");
    setenv("NO_COLOR", "1", 1);
    ok(!cli_use_color(&g, stdout), "NO_COLOR disables auto colors");
    g.color = CLI_ALWAYS;
    ok(cli_use_color(&g, stdout), "--color=always wins over NO_COLOR");
}

static void
test_exit_codes(void)
{
    is_int(cli_exit_code(RET_OK), EXIT_OK, "OK -> 0");
    is_int(cli_exit_code(RET_E_IO), EXIT_RUNTIME, "I/O -> 1");
    is_int(cli_exit_code(RET_E_DB), EXIT_RUNTIME, "database -> 1");
    is_int(cli_exit_code(RET_E_POLICY), EXIT_USAGE, "policy -> 2");
    is_int(cli_exit_code(RET_E_INVAL), EXIT_USAGE, "usage -> 2");
    is_int(cli_exit_code(RET_E_FORMAT), EXIT_USAGE, "bad format -> 2");
    is_int(cli_exit_code(RET_E_VIOLATION), EXIT_VIOLATION, "violation -> 3");
}

static void
test_policy_path(void)
{
    struct cli g = {0};

    g.config = "/x/policy.conf";
    setenv("RETENTION_CONF", "/y/env.conf", 1);
    is_str(cli_policy_path(&g), "/x/policy.conf", "-c comes first");
    g.config = NULL;
    is_str(cli_policy_path(&g), "/y/env.conf", "then $RETENTION_CONF");
    unsetenv("RETENTION_CONF");
}

int
main(void)
{
    test_progress_format();
    test_progress_modes();
    test_colors();
    test_exit_codes();
    test_policy_path();
    return done_testing();
}
