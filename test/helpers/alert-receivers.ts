/** A real SMTP server and a real HTTP server on loopback that record the alerts they receive. */
import { createServer, type IncomingMessage } from "node:http";
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { onCleanup } from "./cleanup.js";

export interface SmtpInbox {
  url: string;
  messages: ParsedMail[];
}

export async function startSmtpServer(): Promise<SmtpInbox> {
  const messages: ParsedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          messages.push(mail);
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as { port: number }).port;
  onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `smtp://127.0.0.1:${port}`, messages };
}

export interface WebhookRequest {
  body: string;
  json: {
    event: string;
    entity: {
      kind: string;
      id: string;
      name: string;
      status: string;
      failing: { name: string; error?: string; fix: string }[];
    };
    consumer?: { id: string; name: string; state: string; health: { status: string } };
    target?: {
      id: string;
      name: string;
      health: { status: string };
      consumers: { id: string; name: string; state: string }[];
    };
  };
  signature: string | undefined;
}

export interface WebhookReceiver {
  url: string;
  received: WebhookRequest[];
  /** Answers the next `n` requests with 500 (they are not recorded as received). */
  failNext(n: number): void;
  failed: number;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const receiver: WebhookReceiver = {
    url: "",
    received: [],
    failed: 0,
    failNext(n: number) {
      toFail = n;
    },
  };
  let toFail = 0;
  const server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      if (toFail > 0) {
        toFail--;
        receiver.failed++;
        response.writeHead(500).end("try later");
        return;
      }
      const body = Buffer.concat(chunks).toString();
      const signature = request.headers["x-sequin-signature"];
      receiver.received.push({
        body,
        json: JSON.parse(body),
        signature: typeof signature === "string" ? signature : undefined,
      });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks/sequin`;
  onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return receiver;
}
