/** Counted nouns in messages users read: "1 consumer", "2 consumers", never "consumer(s)". */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count.toLocaleString("en-US")} ${count === 1 ? singular : pluralForm}`;
}

/** Names as a sentence lists them: `a`, `a and b`, `a, b and c`. */
export function listOf(names: string[]): string {
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}
