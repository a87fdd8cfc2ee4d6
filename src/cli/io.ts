/** Where commands write: the process streams, or buffers in tests. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

/**
 * `egress check … | head`: once the reader has gone, the rest of the output has nowhere to go.
 * Exit quietly then, as cat and grep do, instead of dying of an unhandled EPIPE with a stack
 * trace. Any other error on the stream is reported in one line.
 */
export function exitQuietlyOnBrokenPipe(
  stream: NodeJS.WritableStream = process.stdout,
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') return exit(0);
    process.stderr.write(`egress: cannot write the output: ${err.message}\n`);
    exit(1);
  });
}
