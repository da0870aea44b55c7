/** `mwt <command> …`: dispatches to one command; a CliError ends the process with its message and status. */
import { cancel, jobs, submit, watch } from './commands/jobs.js';
import { keys } from './commands/keys.js';
import { login } from './commands/login.js';
import { download, metrics, modules } from './commands/runs.js';
import { CliError } from './errors.js';

const USAGE = `mwt: the MwT job service from a terminal

  mwt login --url <API URL> --key <API key>   store them in $XDG_CONFIG_HOME/mwt/config.json (mode 0600)
  mwt submit <type> [--<param> <value> ...] [--follow] [--idempotency-key <k>]
  mwt submit --file <job.json> [--follow]      a POST /jobs body: {"type": ..., "params": {...}}
  mwt watch <job id>                           progress bar until the job ends (exit 0 completed, 1 failed/cancelled, 130 Ctrl-C)
  mwt jobs [--state <s>] [--type <t>] [--limit <n>] [--json]
  mwt cancel <job id>
  mwt metrics <run id> [--json]                per-epoch metrics
  mwt modules <run id> [--json]                modules cut from a run
  mwt download <module id> [dir]               unpacked into dir (default: ./<module id>), sha256 checked
  mwt keys list [--json] | create --name <n> --scopes <read,submit,admin> | revoke <key id>   (admin key)

MWT_URL and MWT_KEY, when set, take precedence over the stored login.`;

type Command = (args: string[]) => Promise<number>;
const COMMANDS: Record<string, Command> = { login, submit, watch, jobs, cancel, metrics, modules, download, keys };

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) throw new CliError(`unknown command ${name}\n\n${USAGE}`, 2);
  return command(args);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof CliError)) throw error;
  process.stderr.write(`mwt: ${error.message}\n`);
  process.exitCode = error.exitCode;
}
