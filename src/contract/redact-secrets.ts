/**
 * Redaction of secrets inside free text, for lines written by libraries we do not control (grpc-js logs a
 * metadata entry it cannot parse, value and all, and its tracers print whole metadata). Structured log fields
 * are redacted by path where they are logged; this is for the message text itself.
 */

export const REDACTED = '[redacted]';

// `"authorization": ["Bearer …"]` or `"authorization":"…"`, as Metadata.toJSON() prints it.
const AUTHORIZATION_JSON = /("[\w-]*authorization"\s*:\s*)(\[[^\]]*\]|"(?:[^"\\]|\\.)*")/gi;
// `authorization: <value>` up to the end of the sentence: a period before a space, or the end of the line.
const AUTHORIZATION_TEXT = /(authorization\s*[:=]\s*)(.*?)(?=\.\s|\.?$)/gim;
const BEARER = /\b(bearer)(\s+)[^\s"',\]]+/gi;
// A JWT's header is a JSON object: its base64url always begins with "eyJ" (`{"`).
const JWT = /\beyJ[\w-]{4,}\.[\w-]*(?:\.[\w-]*)?/g;

/** `text` with every `authorization` value, bearer token and JWT-shaped string replaced by `[redacted]`. */
export function redactSecrets(text: string): string {
  return text
    .replace(AUTHORIZATION_JSON, `$1"${REDACTED}"`)
    .replace(AUTHORIZATION_TEXT, `$1${REDACTED}`)
    .replace(BEARER, `$1 ${REDACTED}`)
    .replace(JWT, REDACTED);
}
