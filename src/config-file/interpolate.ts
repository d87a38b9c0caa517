/**
 * Environment references in config values: `${VAR}`, `${VAR:-default}` (the default when VAR is unset or
 * empty) and `$${` for a literal `${`. Secrets must be exactly one `${VAR}` reference, without a default:
 * a default would be a secret written in the file.
 */

export type Env = Record<string, string | undefined>;

export type Interpolated = { ok: true; value: string } | { ok: false; message: string };

const variableName = /^[A-Za-z_][A-Za-z0-9_]*$/;
const wholeSecretReference = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

export function interpolate(text: string, env: Env): Interpolated {
  let out = "";
  let at = 0;
  while (at < text.length) {
    const next = text.indexOf("$", at);
    if (next === -1) break;
    out += text.slice(at, next);
    if (text.startsWith("$${", next)) {
      out += "${";
      at = next + 3;
      continue;
    }
    if (!text.startsWith("${", next)) {
      out += "$";
      at = next + 1;
      continue;
    }
    const close = text.indexOf("}", next + 2);
    if (close === -1) {
      return {
        ok: false,
        message: `a reference opened with \${ is not closed by } (write $\${ for a literal \${)`,
      };
    }
    const inner = text.slice(next + 2, close);
    const split = inner.indexOf(":-");
    const name = split === -1 ? inner : inner.slice(0, split);
    if (!variableName.test(name)) {
      return {
        ok: false,
        message: `\${${inner}} is not a reference: write \${VAR} or \${VAR:-default}, VAR made of letters, digits and _`,
      };
    }
    const value = env[name];
    if (split !== -1) {
      out += value === undefined || value === "" ? inner.slice(split + 2) : value;
    } else if (value === undefined) {
      return {
        ok: false,
        message: `environment variable ${name} is not set: set it, or give a default as \${${name}:-value}`,
      };
    } else {
      out += value;
    }
    at = close + 1;
  }
  return { ok: true, value: out + text.slice(at) };
}

/** The variable a secret field refers to, or undefined when the field is not exactly `${VAR}`. */
export function secretReference(text: string): string | undefined {
  return wholeSecretReference.exec(text)?.[1];
}

/** Whether the text is a single reference (then a plain YAML value takes the type of what it expands to). */
export function isWholeReference(text: string): boolean {
  return /^\$\{[^}]*\}$/.test(text);
}

/** A plain YAML scalar's value after expansion: numbers and booleans as YAML would read them. */
export function typedValue(text: string): string | number | boolean {
  if (/^[-+]?\d+$/.test(text)) return Number(text);
  if (/^[-+]?(\d+\.\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return Number(text);
  if (text === "true" || text === "false") return text === "true";
  return text;
}
