/** Reading a sync's page in the console, for the tests that add syncs and watch them. */
import type { Page } from "playwright-core";

/**
 * The collections table as the page shows it now, read in one pass: the page replaces it every 2 s, and a
 * row swapped between two reads would otherwise mix two refreshes.
 */
export async function collectionRows(page: Page) {
  return page.locator("#sync-live tr[data-collection]").evaluateAll((rows) =>
    rows.map((row) => ({
      collection: row.getAttribute("data-collection") ?? "",
      state: row.getAttribute("data-state") ?? "",
      records: Number((row.querySelector('[data-cell="records"]')?.textContent ?? "").replaceAll(",", "")),
      backfill: row.querySelector('[data-cell="backfill"]')?.textContent ?? "",
      lastPolled: row.querySelector('[data-cell="last-polled"]')?.textContent ?? "",
    })),
  );
}
