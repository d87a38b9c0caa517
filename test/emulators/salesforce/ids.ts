/**
 * Record ids in Salesforce's form: a three-character key prefix of the object (001 Account, 003 Contact …),
 * a counter in base 62, and the three-character suffix that makes the 18-character id case-insensitive.
 * Ids of one object grow with creation, so `ORDER BY Id` is creation order, as in a real org.
 */
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/** The 18-character id of a 15-character one (Salesforce's documented checksum). */
export function caseSafeId(id15: string): string {
  let suffix = "";
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15[chunk * 5 + i]!;
      if (c >= "A" && c <= "Z") bits |= 1 << i;
    }
    suffix += SUFFIX[bits];
  }
  return id15 + suffix;
}

export function recordId(keyPrefix: string, counter: number): string {
  let digits = "";
  for (let n = counter; n > 0; n = Math.floor(n / 62)) digits = BASE62[n % 62] + digits;
  return caseSafeId(`${keyPrefix}5g00${digits.padStart(8, "0")}`);
}
