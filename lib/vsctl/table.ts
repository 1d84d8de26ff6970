/*
 * Tabular output of `list` and `find` (Open vSwitch's lib/table.c): a table is headings plus
 * rows of cells; a cell holds a column value (printed according to --data: ovs-vsctl's value
 * syntax, bare, or JSON) or fixed text.
 *
 * Formats (--format): `list` (the default: "heading : value" lines, `%-20s: `, a blank line
 * between records), `table` (aligned columns under a dashed rule), `csv`, `json`, `html`.
 * --no-headings drops the headings, --bare means list format, bare data, no headings. Every
 * table after the first of one invocation is preceded by a blank line (not in JSON).
 */
import { type Datum, datumToBare, datumToJson, datumToString, type Json, jsonToText, type Type } from './data.ts';

export type TableFormat = 'table' | 'list' | 'html' | 'csv' | 'json';
export type CellFormat = 'string' | 'bare' | 'json';

export interface TableStyle {
  format: TableFormat;
  cellFormat: CellFormat;
  headings: boolean;
  pretty: boolean;
  /** 0 for no limit (table format only). */
  maxColumnWidth: number;
}

export const DEFAULT_STYLE: TableStyle = { format: 'list', cellFormat: 'string', headings: true, pretty: false, maxColumnWidth: 0 };

export type Cell = { datum: Datum; type: Type } | { text: string };

export class OutputTable {
  readonly rows: Cell[][] = [];
  constructor(readonly headings: string[]) {}

  addRow(cells: Cell[]): void {
    this.rows.push(cells);
  }
}

function cellJson(cell: Cell): Json {
  return 'text' in cell ? cell.text : datumToJson(cell.datum, cell.type);
}

function cellText(cell: Cell, style: TableStyle): string {
  if ('text' in cell) return cell.text;
  switch (style.cellFormat) {
    case 'json': return jsonToText(cellJson(cell));
    case 'string': return datumToString(cell.datum, cell.type);
    case 'bare': return datumToBare(cell.datum, cell.type);
  }
}

const byteLength = (s: string): number => Buffer.byteLength(s);

/** printf("%-*.*s", width, width, s), counting bytes as C does. */
function padTruncate(s: string, width: number): string {
  const b = Buffer.from(s);
  const cut = b.length > width ? b.subarray(0, width).toString() : s;
  return cut + ' '.repeat(Math.max(0, width - byteLength(cut)));
}

const finishLine = (line: string): string => `${line.replace(/ +$/, '')}\n`;

function escapeHtml(s: string): string {
  return /[&<>"]/.test(s) ? s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!) : s;
}

function htmlCell(element: string, content: string): string {
  let out = `    <${element}>`;
  for (let p = 0; p < content.length;) {
    const m = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/.exec(content.slice(p));
    if (m) {
      out += `<a href="#${m[0]}">${m[0].slice(0, 8)}</a>`;
      p += m[0].length;
    } else {
      out += escapeHtml(content[p]!);
      p++;
    }
  }
  return `${out}</${element}>\n`;
}

function csvCell(content: string): string {
  return /[\n",]/.test(content) ? `"${content.replace(/"/g, '""')}"` : content;
}

/** Formats tables one after another, as one invocation of ovs-vsctl prints them. */
export class TablePrinter {
  private first = true;

  constructor(private readonly style: TableStyle) {}

  format(table: OutputTable): string {
    const style = this.style;
    let s = '';
    const separate = (): void => {
      if (this.first) this.first = false;
      else s += '\n';
    };
    switch (style.format) {
      case 'table': {
        separate();
        const texts = table.rows.map((row) => row.map((cell) => cellText(cell, style)));
        const widths = table.headings.map((heading, x) => {
          let w = Math.max(0, ...texts.map((row) => byteLength(row[x]!)));
          if (style.maxColumnWidth > 0 && w > style.maxColumnWidth) w = style.maxColumnWidth;
          if (style.headings) w = Math.max(w, byteLength(heading));
          return w;
        });
        if (style.headings) {
          s += finishLine(table.headings.map((h, x) => h + ' '.repeat(Math.max(0, widths[x]! - byteLength(h)))).join(' '));
          s += finishLine(widths.map((w) => '-'.repeat(w)).join(' '));
        }
        for (const row of texts) s += finishLine(row.map((text, x) => padTruncate(text, widths[x]!)).join(' '));
        return s;
      }
      case 'list':
        separate();
        table.rows.forEach((row, y) => {
          if (y > 0) s += '\n';
          row.forEach((cell, x) => {
            if (style.headings) s += `${table.headings[x]!.padEnd(20)}: `;
            s += `${cellText(cell, style)}\n`;
          });
        });
        return s;
      case 'html':
        s += '<table border=1>\n';
        if (style.headings) s += `  <tr>\n${table.headings.map((h) => htmlCell('th', h)).join('')}  </tr>\n`;
        for (const row of table.rows) {
          s += '  <tr>\n';
          row.forEach((cell, x) => {
            const content = cellText(cell, style);
            s += table.headings[x] === '_uuid' ? `    <td><a name="${escapeHtml(content)}">${escapeHtml(content.slice(0, 8))}</a></td>\n` : htmlCell('td', content);
          });
          s += '  </tr>\n';
        }
        return `${s}</table>\n`;
      case 'csv':
        separate();
        if (style.headings) s += `${table.headings.map(csvCell).join(',')}\n`;
        for (const row of table.rows) s += `${row.map((cell) => csvCell(cellText(cell, style))).join(',')}\n`;
        return s;
      case 'json':
        return `${jsonToText({ headings: table.headings, data: table.rows.map((row) => row.map(cellJson)) }, style.pretty)}\n`;
    }
  }
}
