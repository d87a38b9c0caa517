/** The environment, read once by a command; invalid values print the variable, rule and value, and exit 2. */
import { type Config, loadConfig } from "../config.js";
import { SequinError } from "../errors.js";

export function configOrExit(): Config {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof SequinError && error.code === "config_invalid") {
      process.stderr.write(`sequin: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}
