/**
 * Looks for secrets in captured logs — not only verbatim, but in the forms a careless log line
 * would carry them: JSON-escaped, base64 (a Buffer logged as such), hex, and for a recovery
 * password its words as a JSON list or one per line.
 */

/** One secret found in one log. */
export interface SecretLeak {
  log: string;
  secret: string;
  form: string;
}

/** The forms of `value` searched for. */
export function secretForms(value: string): Record<string, string> {
  const forms: Record<string, string> = {
    verbatim: value,
    "JSON-escaped": JSON.stringify(value).slice(1, -1),
    base64: Buffer.from(value, "utf8").toString("base64"),
    base64url: Buffer.from(value, "utf8").toString("base64url"),
    hex: Buffer.from(value, "utf8").toString("hex"),
  };
  const words = value.trim().split(/\s+/);
  if (words.length > 1) {
    forms["words as a JSON list"] = JSON.stringify(words).slice(1, -1);
    forms["words one per line"] = words.join("\n");
    forms["words with escaped newlines"] = words.join("\\n");
  }
  return forms;
}

/** Every (log, secret, form) where a log contains a secret. Secrets shorter than 8 characters are refused (they would match by chance). */
export function findSecrets(logs: ReadonlyMap<string, string>, secrets: Readonly<Record<string, string>>): SecretLeak[] {
  const leaks: SecretLeak[] = [];
  for (const [name, value] of Object.entries(secrets)) {
    if (value.length < 8) throw new Error(`secret ${name} is too short to search for`);
    const forms = secretForms(value);
    for (const [log, text] of logs) {
      for (const [form, needle] of Object.entries(forms)) if (text.includes(needle)) leaks.push({ log, secret: name, form });
    }
  }
  return leaks;
}
