/**
 * Whether an error means the service's own store cannot be reached right now (down, restarting, the
 * network cut, too many connections), as opposed to a bug or a refusal. Such errors are waited out: the
 * API answers 503 store_unavailable, runners pause and resume by themselves.
 */
export function isStoreOutage(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === "string") {
    // 08: connection exceptions; 53: insufficient resources; 57P0x: admin/crash shutdown, cannot connect now
    if (/^(08|53|57P0)/.test(code)) return true;
    if (["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENOTFOUND", "EHOSTUNREACH", "EPIPE"].includes(code))
      return true;
  }
  const message = (error as { message?: unknown } | undefined)?.message;
  return (
    typeof message === "string" &&
    /^(Connection terminated|timeout exceeded when trying to connect|Cannot use a pool after calling end|Client has encountered a connection error)/.test(
      message,
    )
  );
}
