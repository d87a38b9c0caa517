/** `sequin version`: prints the version. */
import { readFileSync } from "node:fs";
import { Command } from "commander";

export function packageVersion(): string {
  const file = new URL("../../package.json", import.meta.url);
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}

export function versionCommand(): Command {
  return new Command("version").description("print the version").action(() => {
    process.stdout.write(`sequin ${packageVersion()}\n`);
  });
}
