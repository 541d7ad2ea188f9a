/**
 * Redaction of secrets inside free text, for lines written by libraries we do not control (grpc-js logs a
 * metadata entry it cannot parse, value and all, and its tracers print whole metadata). Structured log fields
 * are redacted by path where they are logged; this is for the message text itself.
 */

export const REDACTED = '[redacted]';

// grpc-js's refusal of a metadata value prints the value twice (`…entry KEY: VALUE. Metadata string value "VALUE"
// contains illegal characters…`), whatever the key: everything after the key goes, since the value may hold anything,
// including text that looks like the end of the message.
const METADATA_ENTRY = /(Failed to add metadata entry )([\w.-]{1,64}|[^:]*?)(: )[\s\S]*/g;
// `"authorization": ["Bearer …"]` or `"authorization":"…"` (and other credential-carrying keys: cookies, API keys,
// tokens), as Metadata.toJSON() prints it in grpc-js's traces.
const AUTHORIZATION_JSON =
  /("(?:[\w-]*authorization|cookie|set-cookie|[\w-]*api-key|[\w-]*token|[\w-]*secret)"\s*:\s*)(\[[^\]]*\]|"(?:[^"\\]|\\.)*")/gi;
// `authorization: <value>` up to the end of the sentence: a period before a space, or the end of the line.
const AUTHORIZATION_TEXT = /(authorization\s*[:=]\s*)(.*?)(?=\.\s|\.?$)/gim;
const BEARER = /\b(bearer)(\s+)[^\s"',\]]+/gi;
// A JWT's header is a JSON object: its base64url always begins with "eyJ" (`{"`).
const JWT = /\beyJ[\w-]{4,}\.[\w-]*(?:\.[\w-]*)?/g;

/**
 * `text` with every value grpc-js refused as metadata, every `authorization` (or cookie, API key, token) value, bearer
 * token and JWT-shaped string replaced by `[redacted]`.
 */
export function redactSecrets(text: string): string {
  return text
    .replace(METADATA_ENTRY, (_all, lead: string, key: string, colon: string) =>
      /^[\w.-]{1,64}$/.test(key) ? `${lead}${key}${colon}${REDACTED} (a value metadata may not hold)` : `${lead}${REDACTED}`,
    )
    .replace(AUTHORIZATION_JSON, `$1"${REDACTED}"`)
    .replace(AUTHORIZATION_TEXT, `$1${REDACTED}`)
    .replace(BEARER, `$1 ${REDACTED}`)
    .replace(JWT, REDACTED);
}
