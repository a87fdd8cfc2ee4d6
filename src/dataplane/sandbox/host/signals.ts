/**
 * Signals for the command. A terminal's Ctrl-C (SIGINT), Ctrl-\ (SIGQUIT) and hang-up go to
 * its whole foreground process group, which includes the command: forwarding those too would
 * deliver them twice. Signals from elsewhere (`kill`, a CI runner's SIGTERM) reach only
 * `egress run` and are forwarded once.
 */
import { readFileSync } from 'node:fs';

export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
];

const TERMINAL_SIGNALS = new Set<NodeJS.Signals>(['SIGINT', 'SIGQUIT', 'SIGHUP']);

/** Fields of /proc/self/stat after the command name: state ppid pgrp session tty_nr tpgid. */
export function inForegroundOfTerminal(stat: string): boolean {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const pgrp = Number(fields[2]);
  const ttyNr = Number(fields[4]);
  const tpgid = Number(fields[5]);
  return ttyNr !== 0 && tpgid === pgrp;
}

/** Whether `signal` most likely came from our terminal, so the command already has it. */
export function fromTerminal(
  signal: NodeJS.Signals,
  readStat = () => readFileSync('/proc/self/stat', 'utf8'),
): boolean {
  if (!TERMINAL_SIGNALS.has(signal)) return false;
  try {
    return inForegroundOfTerminal(readStat());
  } catch {
    return false;
  }
}

/** Routes the signals to `forward` until the returned function is called. */
export function forwardSignals(forward: (signal: NodeJS.Signals) => void): () => void {
  const handlers = FORWARDED_SIGNALS.map((signal) => {
    const handler = () => {
      if (!fromTerminal(signal)) forward(signal);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return () => handlers.forEach(([signal, handler]) => process.off(signal, handler));
}

/** The exit code of a command killed by `signal`: 128 + its number, as shells report it. */
export function signalExitCode(signal: NodeJS.Signals, numbers: Record<string, number>): number {
  return 128 + (numbers[signal] ?? 0);
}
