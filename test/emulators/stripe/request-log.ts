/** What the emulator was asked and what it answered, for tests that assert call counts and pacing. */
export interface LoggedRequest {
  /** Real time in ms when the request was admitted or refused (the rate limiter's clock). */
  at: number;
  method: string;
  path: string;
  query: string;
  /** The API key sent, or null when none was. */
  key: string | null;
  /** The account the request acted on (the platform's or a `Stripe-Account`), once known. */
  account: string | null;
  status: number;
  requestId: string;
  /** The connection was cut before the response ended (fault injection). */
  destroyed: boolean;
}

export { busiestWindow } from "../busiest-window.js";
