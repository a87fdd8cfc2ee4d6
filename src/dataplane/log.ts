/** Application logs: JSON lines on stderr (pino), separate from the audit log. */
import { pino, type Logger } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export function createLogger(level: LogLevel = 'info'): Logger {
  return pino({ level, base: { service: 'egress' } }, pino.destination({ fd: 2, sync: false }));
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
