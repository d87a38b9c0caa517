/** The page shell every console page shares: head, navigation, a flash area for errors of actions. */
import { type Html, html } from "./html.js";

export type Section = "consumers" | "targets" | "syncs";

const sections: { id: Section; label: string; href: string }[] = [
  { id: "consumers", label: "Consumers", href: "/console/consumers" },
  { id: "targets", label: "Targets", href: "/console/targets" },
  { id: "syncs", label: "Syncs", href: "/console/syncs" },
];

// htmx must not inject its own <style> (the page's CSP allows only our stylesheet) nor eval anything
const htmxConfig = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
});

function head(title: string): Html {
  return html`<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="htmx-config" content="${htmxConfig}">
  <title>${title} · Sequin</title>
  <link rel="icon" href="/console/assets/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/console/assets/console.css">
  <script src="/console/assets/htmx.min.js" defer></script>
  <script src="/console/assets/console.js" defer></script>
</head>`;
}

export function page(options: { title: string; section?: Section; body: Html }): Html {
  const nav = sections.map(
    (s) =>
      html`<a href="${s.href}" class="${s.id === options.section ? "active" : ""}"${
        s.id === options.section ? html` aria-current="page"` : ""
      }>${s.label}</a>`,
  );
  return html`<!doctype html>
<html lang="en">
${head(options.title)}
<body>
<header class="topbar">
  <a class="brand" href="/console/consumers">Sequin</a>
  <nav>${nav}</nav>
  <form method="post" action="/logout" class="logout"><button class="link">Sign out</button></form>
</header>
<main>
  <div id="flash" aria-live="polite"></div>
  ${options.body}
</main>
</body>
</html>`;
}

/** A page without navigation: sign-in and errors before sign-in. */
export function barePage(title: string, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
${head(title)}
<body class="bare">
<main>${body}</main>
</body>
</html>`;
}

export function alert(kind: "error" | "ok" | "info", message: Html | string): Html {
  return html`<div class="alert ${kind}" role="${kind === "error" ? "alert" : "status"}">${message}</div>`;
}
