/** Ports in policies: `443`, `"8000-8999"`, or lists of those. */
import type { PortRange } from '../model.js';
import { err, ok, type Parsed } from './result.js';

export function parsePortRange(input: string | number): Parsed<PortRange> {
  if (typeof input === 'number') {
    if (!Number.isInteger(input) || input < 1 || input > 65535)
      return err(`port ${input} is out of range`, 'ports are whole numbers from 1 to 65535');
    return ok({ from: input, to: input });
  }
  const text = input.trim();
  const match = /^([0-9]{1,5})(?:\s*-\s*([0-9]{1,5}))?$/.exec(text);
  if (!match)
    return err(
      `"${input}" is not a port or a port range`,
      'write a port like 443 or a range like "8000-8999"',
    );
  const from = Number(match[1]);
  const to = match[2] === undefined ? from : Number(match[2]);
  if (from < 1 || from > 65535 || to < 1 || to > 65535)
    return err(`"${input}" is out of range`, 'ports are whole numbers from 1 to 65535');
  if (from > to)
    return err(`"${input}" is a range that runs backwards`, `did you mean "${to}-${from}"?`);
  return ok({ from, to });
}

export function formatPortRange(range: PortRange): string {
  return range.from === range.to ? String(range.from) : `${range.from}-${range.to}`;
}

export function portsInclude(ranges: readonly PortRange[] | undefined, port: number): boolean {
  if (!ranges) return true;
  for (const r of ranges) if (port >= r.from && port <= r.to) return true;
  return false;
}
