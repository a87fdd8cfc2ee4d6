/**
 * Reads nftables state inside the sandbox through one long-lived `nft -j -i` process: every
 * redirected TCP connection to the catch-all entrance, and every new UDP flow, needs the
 * original-destination maps read back, and starting `nft` for each read costs 4-5 ms where a
 * query to the running process costs well under one. Each `list` command answers one line of
 * JSON on stdout, naming the object listed; a command nft refuses prints only to stderr, so a
 * line is matched to the oldest query whose object it names, and queries before it that got no
 * line are answered by a one-off `nft -j list ...` run. So is a query that gets no line in time
 * (or one asked of an `nft` that died); the interactive process is then started again.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

const ANSWER_TIMEOUT_MS = 1000;

interface Pending {
  command: string;
  resolve: (json: string) => void;
  timer: NodeJS.Timeout;
}

export class NftQueries {
  private child: ChildProcessWithoutNullStreams | null = null;
  private buffered = '';
  private readonly pending: Pending[] = [];
  private closed = false;

  /** `list ...` (without `nft -j`): the JSON answer, or '' if nft could not answer. */
  list(command: string): Promise<string> {
    if (this.closed) return runOnce(command);
    const child = this.child ?? this.start();
    return new Promise((resolve) => {
      const entry: Pending = {
        command,
        resolve,
        // No answer in time: every waiting query runs on its own, and nft starts again.
        timer: setTimeout(() => this.restart(), ANSWER_TIMEOUT_MS),
      };
      this.pending.push(entry);
      child.stdin.write(`${command}\n`);
    });
  }

  close(): void {
    this.closed = true;
    this.restart();
  }

  private start(): ChildProcessWithoutNullStreams {
    const child = spawn('nft', ['-j', '-i'], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => this.onOutput(child, text));
    // A command nft refuses prints to stderr and no line: its query times out into a fresh run.
    child.stderr.resume();
    child.on('error', () => this.restart());
    child.on('exit', () => {
      if (this.child === child) this.restart();
    });
    child.stdin.on('error', () => {});
    this.child = child;
    return child;
  }

  private onOutput(child: ChildProcessWithoutNullStreams, text: string): void {
    if (child !== this.child) return;
    this.buffered += text;
    for (let end = this.buffered.indexOf('\n'); end >= 0; end = this.buffered.indexOf('\n')) {
      const line = this.buffered.slice(0, end);
      this.buffered = this.buffered.slice(end + 1);
      const at = this.pending.findIndex((entry) => line.includes(namePattern(entry.command)));
      if (at < 0) continue;
      // The queries before it were refused (their errors went to stderr): ask them on their own.
      for (const skipped of this.pending.splice(0, at)) {
        clearTimeout(skipped.timer);
        void runOnce(skipped.command).then(skipped.resolve);
      }
      const entry = this.pending.shift()!;
      clearTimeout(entry.timer);
      entry.resolve(line);
    }
  }

  private restart(): void {
    const child = this.child;
    this.child = null;
    this.buffered = '';
    child?.kill('SIGKILL');
    for (const entry of this.pending.splice(0)) {
      clearTimeout(entry.timer);
      void runOnce(entry.command).then(entry.resolve);
    }
  }
}

/** How nft's JSON names the object a `list map NAME` / `list table inet NAME` lists. */
function namePattern(command: string): string {
  return `"name": "${command.slice(command.lastIndexOf(' ') + 1)}"`;
}

/** One `nft -j <command>` run: its JSON, or '' on failure. */
function runOnce(command: string): Promise<string> {
  return new Promise((resolve) =>
    execFile('nft', ['-j', ...command.split(' ')], (err, stdout) => resolve(err ? '' : stdout)),
  );
}
