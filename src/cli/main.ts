/** Entry point of the `sequin` command (bin/sequin runs this file). */
import { createProgram } from "./program.js";

await createProgram().parseAsync(process.argv);
