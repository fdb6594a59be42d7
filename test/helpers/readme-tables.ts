// Reads README.md's Markdown the way the settings check needs: a section by its heading, the
// pipe tables in it, and the backticked names in a cell. GitHub-flavoured tables only as README
// writes them (one row a line); a `|` inside backticks or escaped as `\|` is part of its cell.

/** The text under `heading` (a whole line such as "## Settings") up to the next heading of its level or above. */
export function section(markdown: string, heading: string): string {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  if (start < 0) throw new Error(`README has no "${heading}" heading`);
  const level = /^#+/.exec(heading)?.[0].length ?? 1;
  const endsAt = lines.findIndex((l, i) => i > start && /^#+ /.test(l) && (/^#+/.exec(l)?.[0].length ?? 0) <= level);
  return lines.slice(start + 1, endsAt < 0 ? undefined : endsAt).join('\n');
}

/** A row's cells, without the outer pipes, each trimmed. */
export function cells(line: string): string[] {
  const out: string[] = [];
  let cell = '';
  let inCode = false;
  const text = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && text[i + 1] === '|') {
      cell += '|';
      i++;
    } else if (c === '`') {
      inCode = !inCode;
      cell += c;
    } else if (c === '|' && !inCode) {
      out.push(cell.trim());
      cell = '';
    } else {
      cell += c;
    }
  }
  out.push(cell.trim());
  return out;
}

export interface Table {
  /** Header cells, lower-cased. */
  header: string[];
  rows: string[][];
}

/** Every pipe table in the text: a header row, a delimiter row (`|---|:--:|`), then its rows. */
export function tables(text: string): Table[] {
  const lines = text.split('\n');
  const found: Table[] = [];
  for (let i = 0; i + 1 < lines.length; i++) {
    const head = lines[i] ?? '';
    const delimiter = lines[i + 1] ?? '';
    if (!head.trim().startsWith('|') || !/^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/.test(delimiter)) continue;
    const table: Table = { header: cells(head).map((h) => h.toLowerCase()), rows: [] };
    let j = i + 2;
    for (; j < lines.length && (lines[j] ?? '').trim().startsWith('|'); j++) table.rows.push(cells(lines[j] ?? ''));
    found.push(table);
    i = j - 1;
  }
  return found;
}

/** The backticked words of a cell that are variable names (`FN_PORT`; not `FN_*` nor `KILN_LAMBDA_`). */
export function variableNames(cell: string): string[] {
  return [...cell.matchAll(/`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)`/g)].map((m) => m[1] ?? '');
}
