/**
 * A real browser for console tests: Debian's Chromium driven by playwright-core, launched once per test
 * file (each launch gets a fresh temporary profile) and closed with the file's cleanups. Pages fail the
 * test on any console error or uncaught exception; screenshots go to docs/screenshots.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { chromium as chromiumPackage, ensureSystemPackages } from "../../scripts/system-packages.js";
import { onCleanup } from "./cleanup.js";

const screenshotsDir = fileURLToPath(new URL("../../docs/screenshots/", import.meta.url));

export async function launchBrowser(): Promise<Browser> {
  ensureSystemPackages([chromiumPackage]);
  const browser = await chromium.launch({
    executablePath: chromiumPackage.path,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  onCleanup(() => browser.close());
  return browser;
}

export interface WatchedPage {
  page: Page;
  /** Fails when the page logged an error or threw since it opened. */
  assertNoErrors(): void;
}

/**
 * The errors less those of a refresh that a button's request replaced: the live parts of a page refresh
 * every 2 s and a button's request replaces one in flight (`hx-sync="…:replace"`), by design, so the newer
 * answer is the one shown; htmx logs the aborted one as `htmx:sendAbort` and its `htmx:afterRequest`.
 */
function withoutReplaced(errors: string[]): string[] {
  let aborted = errors.filter((e) => e.startsWith("console: htmx:sendAbort,")).length;
  return errors.filter((e) => {
    if (e.startsWith("console: htmx:sendAbort,")) return false;
    if (aborted > 0 && e.startsWith("console: htmx:afterRequest,")) {
      aborted -= 1;
      return false;
    }
    return true;
  });
}

/** A page in a fresh context (no cookies), 1280x800, that records every console error and page error. */
export async function openPage(browser: Browser, baseURL: string): Promise<WatchedPage> {
  const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 800 } });
  onCleanup(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const at = message.location();
    errors.push(`console: ${message.text()} (at ${at.url}:${at.lineNumber})`);
  });
  page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
  return {
    page,
    assertNoErrors: () => assert.deepEqual(withoutReplaced(errors), [], "the browser reported errors"),
  };
}

/**
 * Saves what the page shows now as docs/screenshots/<name>.png (the viewport: small files), from the top
 * of the page, or from the element `at` selects.
 */
export async function screenshot(page: Page, name: string, at?: string): Promise<void> {
  mkdirSync(screenshotsDir, { recursive: true });
  if (at) await page.locator(at).evaluate((element) => element.scrollIntoView({ block: "start" }));
  else await page.evaluate(() => window.scrollTo(0, 0));
  // caret "initial": hiding the caret would put style attributes on inputs, which htmx then copies into
  // swapped content against the page's CSP
  await page.screenshot({ path: `${screenshotsDir}${name}.png`, caret: "initial" });
}

/** Signs in through the sign-in page. */
export async function signIn(page: Page, token: string): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("API token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/console\//);
}
