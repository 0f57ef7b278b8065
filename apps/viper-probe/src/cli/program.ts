/**
 * The viper-probe command line. Each command lives in its own file and registers itself here.
 */
import { Command, CommanderError } from "@commander-js/extra-typings";
import { CliEnvError } from "../env.js";
import { addCheckCommand } from "./check-command.js";
import { type CliIo, EXIT_OK, EXIT_USAGE, UsageError } from "./io.js";
import { addRunCommand } from "./run-command.js";

/** Runs one command line; returns the exit code instead of exiting. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode = EXIT_OK;
  const program = new Command("viper-probe")
    .description("check proxy nodes through the node (v2ray core or native proxy) or by TCP")
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  const setExit = (code: number) => {
    exitCode = code;
  };
  addCheckCommand(program, io, setExit);
  addRunCommand(program, io, setExit);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end here too; everything else commander rejects is a usage error.
      return error.code === "commander.helpDisplayed" || error.code === "commander.version"
        ? EXIT_OK
        : EXIT_USAGE;
    }
    if (error instanceof UsageError || error instanceof CliEnvError) {
      io.stderr(`viper-probe: ${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
}
