/**
 * A target behind a bastion host. One SSH connection per target carries every connection to it: a loopback
 * forwarder (127.0.0.1, a free port) accepts each database connection and opens a `direct-tcpip` channel to
 * the database through the bastion. The SSH connection is made when first needed and again after it drops,
 * so a bastion outage looks like a target outage and ends by itself.
 *
 * The bastion's host key is checked against the pinned fingerprint (SHA-256 of the key, as `ssh-keygen -lf`
 * prints it); without one any key is accepted and the one seen is kept in `seenFingerprint`.
 *
 * Every failure is a `target_unreachable` error whose message says which hop failed: bastion unreachable,
 * host key mismatch, authentication refused, forwarding refused, database unreachable from the bastion.
 */
import net from "node:net";
import ssh2 from "ssh2";
import { SequinError } from "../../errors.js";
import { sshFingerprint } from "../ssh-key-pair.js";
import type { TargetRoute } from "./connection.js";

export interface SshTunnelSettings {
  host: string;
  port: number;
  username: string;
  privateKey: string;
  passphrase?: string | undefined;
  /** `SHA256:…`; undefined accepts any host key (and records it in `seenFingerprint`). */
  hostKeyFingerprint?: string | undefined;
}

export interface SshTunnelOptions {
  /** How long the SSH handshake and login may take. Default 5000. */
  readyTimeoutMs?: number;
  /** An idle SSH connection is checked this often; three missed answers end it. Default 5000. */
  keepaliveIntervalMs?: number;
}

/** The database as the bastion reaches it. */
export interface TunnelDestination {
  host: string;
  port: number;
}

/** SSH_MSG_CHANNEL_OPEN_FAILURE reason codes (RFC 4254 §5.1). */
const openFailure = { administrativelyProhibited: 1, connectFailed: 2 } as const;

/** Failures of forwarded connections are kept this long for `explain`, at most this many. */
const failureMemory = 500;

type ForwardState = "pending" | Error;

function unreachable(message: string, cause?: unknown): SequinError {
  return new SequinError("target_unreachable", message, cause === undefined ? {} : { cause });
}

export class SshTunnel {
  /** The host key fingerprint of the last handshake. */
  seenFingerprint: string | undefined;
  private client: ssh2.Client | undefined;
  private connecting: Promise<ssh2.Client> | undefined;
  private server: net.Server | undefined;
  private listening: Promise<{ host: string; port: number }> | undefined;
  /** Accepted database connections, with the SSH connection that carries each once forwarded. */
  private readonly sockets = new Map<net.Socket, ssh2.Client | undefined>();
  /** What happened to each forwarded connection, by the database client's local port. */
  private readonly forwards = new Map<number, ForwardState>();
  private closed = false;
  private key: ssh2.ParsedKey | undefined;

  constructor(
    private readonly settings: SshTunnelSettings,
    private readonly destination: TunnelDestination,
    private readonly options: SshTunnelOptions = {},
  ) {}

  private get bastion(): string {
    return `${this.settings.host}:${this.settings.port}`;
  }

  private get database(): string {
    return `${this.destination.host}:${this.destination.port}`;
  }

  /** For `connectTarget`: connects to the bastion now, so its errors surface as they are. */
  async route(): Promise<TargetRoute> {
    const via = await this.listen();
    await this.ready();
    const ports: number[] = [];
    return {
      via,
      stream: () => {
        const socket = new net.Socket();
        socket.once("connect", () => {
          if (socket.localPort !== undefined) ports.push(socket.localPort);
        });
        return socket;
      },
      explain: (error) => this.explain(error, ports),
    };
  }

  /** Ends the SSH connection and every connection through it; the tunnel cannot be used again. */
  async close(): Promise<void> {
    this.closed = true;
    for (const socket of this.sockets.keys()) socket.destroy();
    this.client?.end();
    this.client = undefined;
    const server = this.server;
    this.server = undefined;
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private listen(): Promise<{ host: string; port: number }> {
    if (this.closed) return Promise.reject(this.closedError());
    this.listening ??= new Promise((resolve, reject) => {
      const server = net.createServer((socket) => this.forward(socket));
      // an idle tunnel alone does not keep the process alive
      server.unref();
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        server.off("error", reject);
        server.on("error", () => {});
        const address = server.address() as net.AddressInfo;
        resolve({ host: address.address, port: address.port });
      });
      this.server = server;
    });
    return this.listening;
  }

  private ready(): Promise<ssh2.Client> {
    if (this.closed) return Promise.reject(this.closedError());
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private open(): Promise<ssh2.Client> {
    const { settings } = this;
    return new Promise((resolve, reject) => {
      const client = new ssh2.Client();
      let mismatch: string | undefined;
      let settled = false;
      const fail = (error: SequinError) => {
        if (settled) return;
        settled = true;
        client.destroy();
        reject(error);
      };
      client.on("ready", () => {
        if (settled) return;
        settled = true;
        if (this.closed) {
          client.end();
          reject(this.closedError());
          return;
        }
        this.client = client;
        resolve(client);
      });
      client.on("error", (error: Error & { level?: string }) => {
        fail(this.handshakeError(error, mismatch));
      });
      // the bastion ended the connection: stop handing it out before its sockets are closed
      client.on("end", () => {
        if (this.client === client) this.client = undefined;
      });
      client.on("close", () => {
        if (this.client === client) this.client = undefined;
        // the connections it carried are gone: end them now rather than when TCP notices
        for (const [socket, carrier] of this.sockets) if (carrier === client) socket.destroy();
        fail(
          unreachable(`bastion unreachable: ${this.bastion} closed the connection during the SSH handshake`),
        );
      });
      let key: ssh2.ParsedKey;
      try {
        key = this.parsedKey();
      } catch (error) {
        reject(unreachable(`cannot read the SSH private key: ${(error as Error).message}`, error));
        return;
      }
      client.connect({
        host: settings.host,
        port: settings.port,
        username: settings.username,
        // the parsed key, so that an encrypted key is decrypted (slow, synchronous) once per tunnel
        authHandler: [{ type: "publickey", username: settings.username, key } as ssh2.PublicKeyAuthMethod],
        readyTimeout: this.options.readyTimeoutMs ?? 5000,
        keepaliveInterval: this.options.keepaliveIntervalMs ?? 5000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer) => {
          const seen = sshFingerprint(key);
          this.seenFingerprint = seen;
          const expected = settings.hostKeyFingerprint;
          if (expected !== undefined && seen !== expected) {
            mismatch = seen;
            return false;
          }
          return true;
        },
      });
    });
  }

  private parsedKey(): ssh2.ParsedKey {
    if (!this.key) {
      const parsed = ssh2.utils.parseKey(this.settings.privateKey, this.settings.passphrase);
      const key = Array.isArray(parsed) ? parsed[0] : parsed;
      if (key instanceof Error) throw key;
      if (!key) throw new Error("no key found");
      this.key = key;
      return key;
    }
    return this.key;
  }

  private handshakeError(error: Error & { level?: string }, mismatch: string | undefined): SequinError {
    if (mismatch !== undefined) {
      return unreachable(
        `bastion host key mismatch: expected ${this.settings.hostKeyFingerprint} got ${mismatch} at ${this.bastion} ` +
          "(if the bastion's key was replaced on purpose, set ssh_tunnel.host_key_fingerprint to the new one)",
        error,
      );
    }
    if (error.level === "client-authentication") {
      return unreachable(
        `bastion refused authentication for user "${this.settings.username}" at ${this.bastion}: ` +
          "install the tunnel's public key in that user's authorized_keys on the bastion",
        error,
      );
    }
    if (error.level === "client-socket" || error.level === "client-timeout" || error.level === "client-dns") {
      return unreachable(`bastion unreachable: ${error.message}`, error);
    }
    return unreachable(
      `bastion unreachable: SSH handshake with ${this.bastion} failed: ${error.message}`,
      error,
    );
  }

  /** One accepted database connection: a channel to the database through the bastion, piped both ways. */
  private forward(socket: net.Socket): void {
    const port = socket.remotePort;
    this.sockets.set(socket, undefined);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    socket.setNoDelay(true);
    if (port !== undefined) this.note(port, "pending");
    this.ready()
      .then(async (client) => ({ client, channel: await this.openChannel(client, port ?? 0) }))
      .then(
        ({ client, channel }) => {
          if (port !== undefined) this.forwards.delete(port);
          if (socket.destroyed || !this.sockets.has(socket)) {
            channel.destroy();
            return;
          }
          this.sockets.set(socket, client);
          channel.on("error", () => socket.destroy());
          channel.on("close", () => socket.destroy());
          socket.on("close", () => channel.destroy());
          socket.pipe(channel).pipe(socket);
        },
        (error: unknown) => {
          if (port !== undefined) this.note(port, error as Error);
          socket.destroy();
        },
      );
  }

  private openChannel(client: ssh2.Client, srcPort: number): Promise<ssh2.ClientChannel> {
    const { host, port } = this.destination;
    return new Promise((resolve, reject) => {
      try {
        client.forwardOut("127.0.0.1", srcPort, host, port, (error, channel) => {
          if (error) reject(this.forwardError(error as Error & { reason?: unknown }));
          else resolve(channel);
        });
      } catch (error) {
        reject(unreachable(`bastion unreachable: the SSH connection to ${this.bastion} was lost`, error));
      }
    });
  }

  private forwardError(error: Error & { reason?: unknown }): SequinError {
    const reason = error.message.replace(/^\(SSH\) Channel open failure: /, "");
    if (error.reason === openFailure.connectFailed) {
      return unreachable(
        `database unreachable from the bastion: ${this.bastion} cannot connect to ${this.database} (${reason})`,
        error,
      );
    }
    if (error.reason === openFailure.administrativelyProhibited) {
      return unreachable(
        `bastion refused forwarding to ${this.database} (administratively prohibited: ${reason}): allow TCP forwarding for user "${this.settings.username}" on the bastion (sshd AllowTcpForwarding, PermitOpen)`,
        error,
      );
    }
    if (error.message === "No response from server") {
      return unreachable(`bastion unreachable: the SSH connection to ${this.bastion} was lost`, error);
    }
    return unreachable(`bastion refused forwarding to ${this.database} (${reason})`, error);
  }

  private note(port: number, state: ForwardState): void {
    this.forwards.delete(port);
    this.forwards.set(port, state);
    if (this.forwards.size > failureMemory) this.forwards.delete(this.forwards.keys().next().value!);
  }

  /** The tunnel's reason for a failed database connection made through `ports`, or `error` itself. */
  private explain(error: unknown, ports: number[]): unknown {
    if (this.closed) return this.closedError(error);
    for (const port of ports) {
      const state = this.forwards.get(port);
      this.forwards.delete(port);
      if (state instanceof Error) return state;
      if (state === "pending") {
        return unreachable(
          `database unreachable from the bastion: ${this.database} did not answer through ${this.bastion} in time`,
          error,
        );
      }
    }
    return error;
  }

  private closedError(cause?: unknown): SequinError {
    return unreachable("the SSH tunnel was closed (the target changed or the service is stopping)", cause);
  }
}
