/*
 * The wire format of the management socket: JSON-RPC 1.0 as Open vSwitch's unixctl speaks it
 * (lib/jsonrpc.c). Each message is one JSON object; messages follow each other on the stream
 * with nothing between them (whitespace and newlines are allowed and ignored), so a reader
 * cuts the stream where a top-level object closes.
 *
 *   request:  {"method": "fdb/show", "params": ["br0"], "id": 3}
 *   reply:    {"result": " port  VLAN  MAC ...\n", "error": null, "id": 3}
 *   error:    {"result": null, "error": "\"foo\" is not a valid command ...", "id": 3}
 *
 * Params are strings (the command's words). A result is the command's text, or, on a
 * connection that asked for `set-options --format json`, the command's structured data (as
 * in Open vSwitch 3.3 and later).
 */

export interface UnixctlRequest {
  method: string;
  params: unknown[];
  id: unknown;
}

export interface UnixctlReply {
  result: unknown;
  error: unknown;
  id: unknown;
}

/** Largest message accepted (bytes of JSON text): a bound on what a peer can make us buffer. */
export const MAX_MESSAGE_CHARS = 16 * 1024 * 1024;

export class JsonStreamError extends Error {}

/**
 * Cuts a stream of text into top-level JSON objects. Feed it text as it arrives (decoded as
 * UTF-8 by the socket, so no character is split); it returns every value completed so far.
 * Throws JsonStreamError for text that is not JSON or a message beyond MAX_MESSAGE_CHARS.
 */
export class JsonStreamParser {
  private buffer = '';
  /** Scan position in `buffer`, and the scanner's state there. */
  private scanned = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;

  feed(text: string): unknown[] {
    this.buffer += text;
    const values: unknown[] = [];
    let start = 0;
    for (let i = this.scanned; i < this.buffer.length; i++) {
      const c = this.buffer[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
        continue;
      }
      if (this.depth === 0 && c !== '{') {
        if (/\s/.test(c)) continue;
        throw new JsonStreamError(`unexpected '${c}' between messages`);
      }
      if (c === '"') {
        this.inString = true;
      } else if (c === '{' || c === '[') {
        this.depth++;
      } else if (c === '}' || c === ']') {
        if (--this.depth < 0) throw new JsonStreamError(`unexpected '${c}'`);
        if (this.depth === 0) {
          const text = this.buffer.slice(start, i + 1);
          try {
            values.push(JSON.parse(text));
          } catch (e) {
            throw new JsonStreamError((e as Error).message);
          }
          start = i + 1;
        }
      }
    }
    this.buffer = this.buffer.slice(start);
    this.scanned = this.buffer.length;
    if (this.buffer.length > MAX_MESSAGE_CHARS) throw new JsonStreamError(`message longer than ${MAX_MESSAGE_CHARS} characters`);
    return values;
  }
}

export function isRequest(value: unknown): value is UnixctlRequest {
  return typeof value === 'object' && value !== null && typeof (value as UnixctlRequest).method === 'string' && 'id' in value;
}

export function isReply(value: unknown): value is UnixctlReply {
  return typeof value === 'object' && value !== null && 'id' in value && ('result' in value || 'error' in value);
}
