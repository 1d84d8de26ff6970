/* Reads the codec corpus: every fixtures/codec-corpus/*.jsonl line that carries message bytes. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CORPUS_DIR = fileURLToPath(new URL('../../fixtures/codec-corpus/', import.meta.url));

export interface CorpusLine {
  file: string;
  /** The line's label: its `name`, or the command that produced it. */
  label: string;
  bytes: Buffer;
}

export function readCorpusFiles(): CorpusLine[] {
  const lines: CorpusLine[] = [];
  for (const file of readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.jsonl')).sort()) {
    for (const text of readFileSync(join(CORPUS_DIR, file), 'utf8').split('\n')) {
      if (!text.trim()) continue;
      const row = JSON.parse(text) as { name?: string; command?: string; hex: string };
      lines.push({ file, label: row.name ?? row.command ?? '?', bytes: Buffer.from(row.hex, 'hex') });
    }
  }
  return lines;
}
