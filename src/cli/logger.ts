/** The process's log: JSON lines on stderr (stdout is for what commands print). */
import pino, { type Logger } from "pino";
import type { Config } from "../config.js";

export function createLogger(level: Config["logLevel"]): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      // belt and braces: nothing logs these on purpose
      redact: {
        paths: ["password", "*.password", "token", "*.token", "authorization", "*.authorization"],
        remove: true,
      },
    },
    pino.destination({ dest: 2, sync: true }),
  );
}
