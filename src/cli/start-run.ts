/**
 * What `sequin start` runs: the service until SIGTERM/SIGINT, then a clean stop and exit 0. A second signal
 * exits at once. Invalid environment or config file, a store that cannot be reached → exit 2 naming what
 * to fix; a start that fails otherwise (the port or the data directory in use) → exit 1. Loaded only when
 * the command runs (start-command.ts): the service's modules are most of the CLI's start-up time.
 */
import type { Config } from "../config.js";
import { SequinError } from "../errors.js";
import { type RunningService, startService } from "../service.js";
import { configOrExit } from "./config-or-exit.js";
import { applyAtStart, configFileOrExit } from "./config-start.js";
import { exitStatus } from "./exit-codes.js";
import { createLogger } from "./logger.js";

export async function runStart(options: { config?: string[] }): Promise<void> {
  const config = configOrExit();
  const file = options.config ? await configFileOrExit(options.config) : undefined;
  const log = createLogger(config.logLevel);
  let service: RunningService | undefined;
  let signalled = false;

  const shutdown = (running: RunningService) => {
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, "stop failed");
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      log.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    signalled = true;
    log.info({ signal }, "stopping");
    if (service) shutdown(service);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);

  try {
    service = await startService(config, { log });
  } catch (error) {
    process.stderr.write(`sequin: cannot start: ${startFailure(error, config)}\n`);
    if (!(error instanceof SequinError) && !isPortInUse(error)) log.error({ err: error }, "start failed");
    process.exit(startExitStatus(error));
  }
  process.stdout.write(`listening on ${service.url}\n`);
  if (service.token) process.stdout.write(`admin API token (shown once): ${service.token}\n`);
  if (file && !signalled && !(await applyAtStart(file, service, config.apiToken, log))) {
    if (signalled) return;
    await service.stop();
    process.exit(1);
  }
  if (signalled) shutdown(service);
}

function isPortInUse(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === "EADDRINUSE";
}

function startFailure(error: unknown, config: Config): string {
  if (isPortInUse(error)) {
    return `${config.host}:${config.port} is in use by another program: stop it, or set SEQUIN_PORT to a free port`;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * A setting found wrong only at start (a SEQUIN_VAULT_KEY that does not match the store) or a store that
 * cannot be reached is 2; anything else that stops the start (the port or the data directory in use) is 1.
 */
function startExitStatus(error: unknown): number {
  if (error instanceof SequinError && (error.code === "config_invalid" || error.code === "store_unavailable"))
    return exitStatus.usage;
  return exitStatus.negative;
}
