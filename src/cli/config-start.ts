/**
 * `sequin start --config FILE`: the file is read and validated before the service starts (a bad file
 * exits 2, nothing started), then applied through the service's own API once it listens, printing the
 * plan. A file that cannot be applied stops the service (exit 1): it does not run half configured.
 */
import type { Logger } from "pino";
import { ApiClient, ApiRefusal, ServerUnreachable } from "../api-client.js";
import {
  ApplyError,
  applyPlan,
  ConfigFileError,
  type LoadedConfig,
  loadConfigFiles,
  planChanges,
  planText,
} from "../config-file/index.js";
import { applyErrorText } from "./config-options.js";

export async function configFileOrExit(files: string[]): Promise<LoadedConfig> {
  try {
    return await loadConfigFiles(files, process.env);
  } catch (error) {
    if (!(error instanceof ConfigFileError)) throw error;
    process.stderr.write(`sequin: cannot start: ${error.message}\n`);
    process.exit(2);
  }
}

/** Applies the file to the running service; false (after printing why) when it could not. */
export async function applyAtStart(
  loaded: LoadedConfig,
  service: { url: string; token?: string },
  apiToken: string | undefined,
  log: Logger,
): Promise<boolean> {
  const token = apiToken ?? service.token;
  if (!token) {
    process.stderr.write(
      "sequin: --config applies the file through the API and needs its token: set SEQUIN_API_TOKEN (the token printed at the first start)\n",
    );
    return false;
  }
  const api = new ApiClient(service.url, token, "this service");
  try {
    const state = await api.state();
    const plan = planChanges(loaded, state);
    process.stdout.write(planText(plan));
    await applyPlan(api, loaded, state, plan);
    const { create, update, delete: remove } = plan.summary;
    process.stdout.write(`config applied: ${create} created, ${update} updated, ${remove} deleted\n`);
    log.info({ ...plan.summary }, "config file applied");
    return true;
  } catch (error) {
    if (error instanceof ApplyError) process.stderr.write(applyErrorText(error));
    else if (
      error instanceof ConfigFileError ||
      error instanceof ServerUnreachable ||
      error instanceof ApiRefusal
    )
      process.stderr.write(`sequin: cannot apply the config file: ${error.message}\n`);
    else throw error;
    return false;
  }
}
