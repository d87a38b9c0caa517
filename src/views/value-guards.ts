/**
 * What a payload value must look like to become each column type, written once as Postgres regular
 * expressions over the value's text (`->>`). The inference query counts the values each guard admits, and
 * the view casts a value only when the same guard admits it (NULL otherwise): the view cannot fail on any
 * data, and a value counted as fitting is exactly a value the view casts. Every guard admits only text its
 * cast accepts whatever the session's settings (DateStyle, TimeZone): calendar-checked dates, bounded
 * digits and exponents, no `NaN` or `Infinity`, no leading zeros (a zip code "02134" stays text).
 */

/** Up to 18 digits: always inside bigint's range. */
export const integerPattern = "^-?(0|[1-9][0-9]{0,17})$";

/**
 * Postgres numeric input refuses exponents past ±1000 and integer parts past 131,072 digits. The length
 * is checked apart (`numberMaxLength`): a bounded repetition as long in the pattern makes the regular
 * expression ten times slower.
 */
export const numberPattern = "^-?(0|[1-9][0-9]*)([.][0-9]+)?([eE][-+]?[0-9]{1,3})?$";
export const numberMaxLength = 255;

export const booleanPattern = "^(true|false)$";

/** Years 1000-9999; months and days checked against the calendar, 29 February on leap years only. */
const calendarDate =
  "([1-9][0-9]{3}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))" +
  "|[1-9][0-9](0[48]|[2468][048]|[13579][26])-02-29|([13579][26]|[2468][048])00-02-29)";

const clockTime = "([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,9})?)?";

/** `Z`, or an offset within Postgres's ±15:59 (`+01`, `+0100`, `+01:00`). */
const zoneOffset = "([Zz]|[+-](0[0-9]|1[0-5])(:?[0-5][0-9])?)";

export const datePattern = `^${calendarDate}$`;

/** An ISO 8601 timestamp with its offset (Salesforce's `2024-01-02T03:04:05.000+0000` included). */
export const zonedTimestampPattern = `^${calendarDate}[T ]${clockTime}${zoneOffset}$`;

/** A date, or a date and time without an offset: read as UTC, so the view answers alike in every session. */
export const localTimestampPattern = `^${calendarDate}([T ]${clockTime})?$`;

/** Milliseconds since 1970 from 2001-09-09 to 2286-11-20 (HubSpot sends them as strings too). */
export const epochMillisecondsPattern = "^[1-9][0-9]{12}$";

/** Seconds since 1970 from 2001-09-09 to 2286-11-20; only a JSON number is read so (Stripe's `created`). */
export const epochSecondsPattern = "^[1-9][0-9]{9}$";

/**
 * A key named like an identifier (`id`, `hs_object_id`, `AccountId`, `user-id`) is never read as a time,
 * however its digits look: ten-digit ids are common.
 */
export function looksLikeIdentifier(key: string): boolean {
  return /^id$/i.test(key) || /[-_. ]id$/i.test(key) || /[a-z0-9]I[dD]$/.test(key);
}
