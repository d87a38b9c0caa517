/** Invalid command input: printed as `sequin: <message>` and the process exits with status 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Runs a command's body; a UsageError prints its message and sets exit status 2. */
export async function exitOnUsageError(run: () => Promise<void> | void): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`sequin: ${error.message}\n`);
    process.exitCode = 2;
  }
}
