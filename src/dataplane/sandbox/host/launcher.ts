/**
 * Starts the bridge in new user, network, mount and PID namespaces (`unshare`, util-linux) with
 * an IPC channel to this process, and explains the failure when the kernel forbids
 * unprivileged user namespaces.
 *
 * node cannot call unshare(2) itself (it is multi-threaded), so the unshare tool forks the
 * bridge as PID 1 of a new PID namespace with its own /proc; `--kill-child` takes the bridge
 * down if unshare dies. The user's terminal stays attached: stdin, stdout and stderr are
 * inherited all the way to the command.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Socket as UdpSocket } from 'node:dgram';
import type { Server, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { BridgeConfig, FromBridge, ToBridge } from '../protocol.js';

/**
 * The bridge's entry: beside the CLI bundle (dist/bundle/bridge.js, its own small bundle), or
 * inside/bridge.js next to this folder when running from dist/src.
 */
export const BRIDGE_ENTRY = fileURLToPath(
  new URL(
    import.meta.url.endsWith('.cjs') ? './bridge.js' : '../inside/bridge.js',
    import.meta.url,
  ),
);

function readSetting(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

/** Why user namespaces cannot be created here, naming the kernel setting; null if they can. */
export function userNamespaceBlocker(read = readSetting): string | null {
  if (read('/proc/sys/user/max_user_namespaces') === '0')
    return 'user namespaces are disabled: user.max_user_namespaces is 0 (as root: sysctl -w user.max_user_namespaces=15000)';
  if (read('/proc/sys/kernel/unprivileged_userns_clone') === '0')
    return 'unprivileged user namespaces are disabled: kernel.unprivileged_userns_clone is 0 (as root: sysctl -w kernel.unprivileged_userns_clone=1)';
  return null;
}

/** Said when the namespaces could not be made although no setting above explains it. */
export const USERNS_HINT =
  'egress run needs Linux user, network, mount and PID namespaces; check kernel.unprivileged_userns_clone and user.max_user_namespaces (sysctl), kernel.apparmor_restrict_unprivileged_userns on Ubuntu, and that no seccomp profile (e.g. a container) blocks unshare';

export function unshareArgs(bridgeEntry = BRIDGE_ENTRY): string[] {
  return [
    '--map-root-user',
    '--net',
    '--mount',
    '--pid',
    '--fork',
    '--kill-child',
    '--mount-proc',
    '--',
    process.execPath,
    bridgeEntry,
  ];
}

/** The spawned unshare + bridge, before anyone listens to it (bin/egress may start it early). */
export interface SpawnedBridge {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Why unshare itself could not be started, once known. */
  spawnError(): string | null;
}

/**
 * Spawns unshare with the bridge. bin/egress calls this before loading the CLI when the
 * command is `run`, so the bridge's node start-up overlaps with loading the CLI's modules.
 */
export function spawnBridge(entry = BRIDGE_ENTRY): SpawnedBridge {
  const child = spawn('unshare', unshareArgs(entry), {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    // The bridge must not inherit NODE_OPTIONS meant for the command (--require hooks...).
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
  });
  let spawnError: string | null = null;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      spawnError =
        err.code === 'ENOENT'
          ? 'the unshare command (util-linux) is not installed'
          : `cannot start unshare: ${err.message}`;
      resolve({ code: 127, signal: null });
    });
    // 'close' comes after the IPC channel has delivered everything (unlike 'exit').
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  child.on('error', () => {});
  return { child, exited, spawnError: () => spawnError };
}

/** The bridge process as seen from outside: messages in, messages out, exit. */
export class BridgeProcess {
  private readonly child: ChildProcess;
  private readonly spawned: SpawnedBridge;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    onMessage: (message: FromBridge, handle: unknown) => void,
    spawned: SpawnedBridge = spawnBridge(),
  ) {
    this.spawned = spawned;
    this.child = spawned.child;
    this.exited = spawned.exited;
    this.child.on('message', (message: FromBridge, handle: unknown) => onMessage(message, handle));
  }

  /** Why unshare itself could not be started, if it could not. */
  get spawnError(): string | null {
    return this.spawned.spawnError();
  }

  send(message: ToBridge | BridgeConfig): void {
    if (this.child.connected) this.child.send(message, (err) => void err);
  }

  /** Sends a message with a socket handle; resolves once it is handed over. */
  sendHandle(message: ToBridge, handle: Server | Socket | UdpSocket): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.child.connected) return reject(new Error('the sandbox bridge has gone'));
      this.child.send(message, handle, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Last resort (this process is failing): the bridge's exit tears the namespaces down. */
  kill(): void {
    this.child.kill('SIGKILL');
  }
}
