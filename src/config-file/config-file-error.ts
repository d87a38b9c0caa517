/**
 * What is wrong with a config file, each problem with the file, line, column and path where it is, so
 * that an editor or CI can point at it: `sequin.yaml:12:7: targets[0].postgres.port: expected a number`.
 */

/** A path inside one file, as zod and YAML see it: keys and list indexes. */
export type Path = (string | number)[];

export interface ConfigProblem {
  file: string;
  /** 1-based; 0 when the problem is with the file as a whole (e.g. it cannot be read). */
  line: number;
  column: number;
  /** e.g. `targets[0].postgres.port`; empty for the whole file. */
  path: string;
  message: string;
}

export function formatPath(path: Path): string {
  let text = "";
  for (const part of path) text += typeof part === "number" ? `[${part}]` : text ? `.${part}` : part;
  return text;
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
  return p.path ? `${where}: ${p.path}: ${p.message}` : `${where}: ${p.message}`;
}

function byPosition(a: ConfigProblem, b: ConfigProblem): number {
  return a.file === b.file ? a.line - b.line || a.column - b.column : 0;
}

/** The file(s) cannot be used: every problem found, in file order. */
export class ConfigFileError extends Error {
  override name = "ConfigFileError";
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    const sorted = [...problems].sort(byPosition);
    const count = sorted.length === 1 ? "1 problem" : `${sorted.length} problems`;
    super(`invalid config file (${count}):\n${sorted.map((p) => `  ${formatProblem(p)}`).join("\n")}`);
    this.problems = sorted;
  }
}
