/** A private folder of config files for one test file, removed when the file's tests end. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onCleanup } from "../helpers/cleanup.js";

export interface ConfigFolder {
  dir: string;
  /** Writes `text` to the file `name` in the folder; returns its path. */
  write(name: string, text: string): Promise<string>;
}

export async function configFolder(prefix: string): Promise<ConfigFolder> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  return {
    dir,
    async write(name, text) {
      const file = join(dir, name);
      await writeFile(file, text);
      return file;
    },
  };
}
