/**
 * SIP003 plugin strings as share links carry them (`obfs-local;obfs=tls;obfs-host=a.example`):
 * the plugin name, then `;`-separated options, each `key=value` or a bare flag. `\` escapes
 * `;`, `=` and `\` inside names and values (SIP003, "SS_PLUGIN_OPTIONS").
 */
export interface Sip003Plugin {
  name: string;
  /** Option values; a bare flag (`tls`) maps to "". */
  options: Map<string, string>;
}

export function parseSip003(text: string): Sip003Plugin {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "\\" && i + 1 < text.length) {
      // Keep the escape so that `=` inside a value is still told apart from the separator below.
      current += `\\${text[++i]}`;
    } else if (ch === ";") {
      parts.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  parts.push(current);
  const [name = "", ...rest] = parts;
  const options = new Map<string, string>();
  for (const part of rest) {
    if (part.trim() === "") continue;
    const eq = unescapedEquals(part);
    const k = unescapeSip003(eq === -1 ? part : part.slice(0, eq)).trim();
    const v = eq === -1 ? "" : unescapeSip003(part.slice(eq + 1));
    if (!options.has(k)) options.set(k, v);
  }
  return { name: unescapeSip003(name).trim(), options };
}

function unescapedEquals(part: string): number {
  for (let i = 0; i < part.length; i++) {
    if (part[i] === "\\") i++;
    else if (part[i] === "=") return i;
  }
  return -1;
}

function unescapeSip003(text: string): string {
  return text.replace(/\\(.)/g, "$1");
}
