/** @viper/viper-probe: the prober's command line (`viper-probe check`, `viper-probe run`), callable in-process. */

export { type CliIo, EXIT_FAILED, EXIT_GAVE_UP, EXIT_OK, EXIT_USAGE, UsageError } from "./cli/io.js";
export { runCli } from "./cli/program.js";
export type { RunSummary } from "./cli/run-command.js";
export { readNodes, type SourceNode, type SourceNodes } from "./node-source.js";
