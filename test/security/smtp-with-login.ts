/** A real SMTP server on loopback that takes mail only after a login with the given user and password. */
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { onCleanup } from "../helpers/cleanup.js";

export interface SmtpInboxWithLogin {
  host: string;
  port: number;
  messages: ParsedMail[];
  /** Logins accepted (the right user and password) and refused. */
  logins: { accepted: number; refused: number };
}

export async function startSmtpServerWithLogin(user: string, password: string): Promise<SmtpInboxWithLogin> {
  const inbox: SmtpInboxWithLogin = {
    host: "127.0.0.1",
    port: 0,
    messages: [],
    logins: { accepted: 0, refused: 0 },
  };
  const server = new SMTPServer({
    authMethods: ["PLAIN", "LOGIN"],
    // plain text on loopback: the point is that the service has the password, not how it travels
    allowInsecureAuth: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === password) {
        inbox.logins.accepted++;
        callback(null, { user });
      } else {
        inbox.logins.refused++;
        callback(new Error("Invalid username or password"));
      }
    },
    onMailFrom(_address, session, callback) {
      callback(session.user === user ? undefined : new Error("log in first"));
    },
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          inbox.messages.push(mail);
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  inbox.port = (server.server.address() as { port: number }).port;
  onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return inbox;
}
