/** What the emulator was asked and answered, for tests that assert call counts, bodies and pacing. */
export interface HubSpotRequest {
  /** Real time in ms when the request arrived (the limits' clock). */
  at: number;
  method: string;
  path: string;
  query: string;
  body: string;
  /** The install that called (a private app's token, an OAuth app's refresh token), once known. */
  install: string | null;
  search: boolean;
  status: number;
  /** The connection was cut before the answer ended (fault injection). */
  destroyed: boolean;
}

export { busiestWindow } from "../busiest-window.js";
