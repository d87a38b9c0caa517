/** The console as a signed-in user sees it: every page and htmx fragment reachable by links from its menus. */
import assert from "node:assert/strict";

/** Signs in with the API token as the sign-in form does; returns the session cookie. */
export async function signInToConsole(url: string, token: string): Promise<string> {
  const response = await fetch(`${url}/login`, {
    method: "POST",
    headers: { origin: url, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token, next: "/console/consumers" }),
    redirect: "manual",
  });
  assert.equal(response.status, 303, await response.text());
  const cookie = (response.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  assert.match(cookie, /^sequin_session=./);
  return cookie;
}

const starts = ["/login", "/console/consumers", "/console/targets", "/console/syncs"];

/**
 * GETs every console path reachable from the menus through `href` and `hx-get` (assets aside), once each,
 * and from `linkedOnce` (links shown only once, e.g. after a form); returns each page's HTML by path. Fails
 * on a page that does not answer 200.
 */
export async function crawlConsole(
  url: string,
  cookie: string,
  linkedOnce: string[] = [],
  limit = 200,
): Promise<Map<string, string>> {
  const pages = new Map<string, string>();
  const queue = [...starts, ...linkedOnce];
  while (queue.length > 0) {
    const path = queue.shift()!;
    if (pages.has(path)) continue;
    assert.ok(pages.size < limit, `more than ${limit} console pages: ${[...pages.keys()].join(", ")}`);
    const response = await fetch(`${url}${path}`, { headers: { cookie }, redirect: "manual" });
    const text = await response.text();
    // the sign-in page redirects a signed-in user; anything else must be a page
    if (!(path === "/login" && response.status === 303))
      assert.equal(response.status, 200, `console GET ${path}: ${text.slice(0, 500)}`);
    pages.set(path, text);
    for (const [, link] of text.matchAll(/(?:href|hx-get)="(\/[^"#]*)"/g)) {
      const target = link!.replaceAll("&amp;", "&");
      if (/^\/(console|login)/.test(target) && !target.startsWith("/console/assets/")) queue.push(target);
    }
  }
  return new Map([...pages].map(([path, text]) => [`console GET ${path}`, text]));
}
