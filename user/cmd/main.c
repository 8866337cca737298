// SPDX-License-Identifier: GPL-2.0
/* fringe: the controller's entry point; the commands are in the table of commands.c. */
#include <stdlib.h>

#include "cli.h"

int main(int argc, char **argv)
{
	struct cli g = { .pin_dir = getenv("FRINGE_PIN_DIR") };

	return cli_main(&g, argc, argv);
}
