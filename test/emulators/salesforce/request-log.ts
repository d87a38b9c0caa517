/** What the emulator was asked and what it answered, for tests that assert call counts and pacing. */
export interface LoggedRequest {
  /** Real time in ms when the request arrived. */
  at: number;
  method: string;
  path: string;
  query: string;
  /** The access token sent, or null. */
  token: string | null;
  status: number;
  /** Salesforce's errorCode when the answer was an error. */
  errorCode: string | null;
  /** The connection was cut before the response ended (fault injection). */
  destroyed: boolean;
}

export { busiestWindow } from "../busiest-window.js";
