// An image's ENV as the engine's inspect lists it, for what reads it (the Lambda layer).
/** An image's ENV, `NAME=value` each (a bare `NAME` is set to nothing). */
export function envOf(lines: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of lines) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
    else if (eq < 0 && line !== '') env[line] = '';
  }
  return env;
}
