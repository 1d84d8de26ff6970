/* Tables that name the spec's numeric codes (action types, multipart types, ...). */

/** Inverts a name → code table for decoding: code → name. */
export function namesByCode<N extends string>(codes: Readonly<Record<N, number>>): ReadonlyMap<number, N> {
  return new Map(Object.entries<number>(codes).map(([name, code]) => [code, name as N]));
}
