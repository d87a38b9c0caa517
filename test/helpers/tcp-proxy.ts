/**
 * A TCP proxy in front of a database, for outage tests: it can cut every connection (as a network reset
 * would) and black-hole traffic (connections stay open, nothing passes, no answer, no reset).
 */
import { createServer, type Server, Socket } from "node:net";
import { onCleanup } from "./cleanup.js";

export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private mode: "pass" | "blackhole" = "pass";
  port = 0;

  private constructor(
    private readonly server: Server,
    private readonly upstream: { host: string; port: number },
  ) {}

  static async start(upstream: { host: string; port: number }): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server, upstream);
    server.on("connection", (client) => proxy.accept(client));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    proxy.port = (server.address() as { port: number }).port;
    onCleanup(() => proxy.close());
    return proxy;
  }

  /** Resets every open connection. */
  cutAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  /** From now on nothing passes, in either direction, on old and new connections. */
  blackhole(): void {
    this.mode = "blackhole";
  }

  /** Traffic passes again; connections opened while black-holed are dropped. */
  pass(): void {
    this.mode = "pass";
    this.cutAll();
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.track(client);
    if (this.mode === "blackhole") return; // accepted, never answered
    const server = new Socket();
    this.track(server);
    server.connect(this.upstream.port, this.upstream.host);
    const relay = (from: Socket, to: Socket) =>
      from.on("data", (chunk: Buffer) => {
        if (this.mode === "pass") to.write(chunk);
      });
    relay(client, server);
    relay(server, client);
    const closeBoth = () => {
      client.destroy();
      server.destroy();
    };
    client.on("close", closeBoth);
    server.on("close", closeBoth);
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => this.sockets.delete(socket));
  }
}
