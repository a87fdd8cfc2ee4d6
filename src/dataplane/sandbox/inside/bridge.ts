/**
 * The sandbox bridge: the first process inside the new user, network, mount and PID namespaces
 * (PID 1 there). It plumbs the network namespace (namespace.ts), binds the sandbox's loopback
 * listeners and hands them to `egress run` over the IPC channel, then runs the command in a
 * nested user namespace mapped back to the caller's own uid. That namespace has no capability
 * over the network namespace or the mounts made here, so the command cannot undo the redirects
 * or reveal the hidden paths (the CA key, the audit log).
 *
 * When the command ends the bridge reports its status and the dropped UDP, then exits; as PID 1
 * its exit makes the kernel kill whatever the command left behind. If `egress run` goes away,
 * the command is killed too: without the proxy it has no network anyway.
 *
 * Start-up time is the sandbox's overhead: node built-ins only, no third-party imports (the
 * lint rules for sandbox/inside/ in eslint.config.js hold every file here to that).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { PublishRelay } from './publish-relay.js';
import {
  readDroppedUdp,
  readOrigins,
  setUpNamespace,
  startNamespace,
  type EarlyNamespace,
} from './namespace.js';
import { NftQueries } from './nft-queries.js';
import { newDrops } from './parse-nft.js';
import {
  INNER_PORTS,
  type BridgeConfig,
  type BridgeOriginRequest,
  type BridgePublish,
  type BridgePublishConnection,
  type DroppedUdp,
  type FromBridge,
  type ListenerRole,
  type ToBridge,
} from '../protocol.js';

function send(message: FromBridge, handle?: Server | UdpSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) return reject(new Error('the bridge has no IPC channel'));
    process.send(message, handle as never, {}, (err) => (err ? reject(err) : resolve()));
  });
}

function listenTcp(host: string, port: number): Promise<Server> {
  const server = createServer({ pauseOnConnect: true });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, ipv6Only: false }, () => resolve(server));
  });
}

/**
 * DNS over UDP on 127.0.0.1 exactly, not a wildcard: replies must leave from the address the
 * redirect rewrote queries to, or conntrack cannot map them back for a program that asked
 * another server (`dig @8.8.8.8`), and it drops them.
 */
function bindUdp(port: number, address = '127.0.0.1'): Promise<UdpSocket> {
  const socket = createSocket({ type: address.includes(':') ? 'udp6' : 'udp4' });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => resolve(socket));
  });
}

/** What the bridge sets up before its configuration arrives (none of it depends on it). */
interface EarlyNetwork {
  namespace: EarlyNamespace;
  /** The loopback listeners, bound once `lo` is up (rejects if binding failed). */
  listeners: Promise<Array<[Server | UdpSocket, ListenerRole]>>;
}

function startEarly(): EarlyNetwork {
  const namespace = startNamespace();
  const listeners = namespace.network.then(async ({ ipv6 }) => {
    const host = ipv6 ? '::' : '0.0.0.0';
    const p = INNER_PORTS;
    const tcp: Array<[number, ListenerRole]> = [
      [p.proxy, { role: 'proxy' }],
      [p.transparent80, { role: 'transparent', originalPort: 80 }],
      [p.transparent443, { role: 'transparent', originalPort: 443 }],
      [p.transparentOther, { role: 'transparent' }],
      [p.dns, { role: 'dns-tcp' }],
    ];
    const bound: Array<[Server | UdpSocket, ListenerRole]> = [];
    for (const [port, role] of tcp) bound.push([await listenTcp(host, port), role]);
    bound.push([await bindUdp(p.dns), { role: 'dns-udp' }]);
    return bound;
  });
  // Reported by prepare() when the configuration comes; never an unhandled rejection before.
  listeners.catch(() => {});
  return { namespace, listeners };
}

class Bridge {
  private child: ChildProcess | null = null;
  private readonly own: Array<Server | UdpSocket> = [];
  private dropped: DroppedUdp[] = [];
  private redirect = false;
  private poller: NodeJS.Timeout | null = null;
  private finishing = false;
  private readonly ingress = new PublishRelay((message) => void send(message).catch(() => {}));
  /** One long-lived nft for the map and set reads (a run per read costs 4-5 ms). */
  private readonly nft = new NftQueries();

  constructor(private readonly config: BridgeConfig) {}

  async prepare(early: EarlyNetwork): Promise<void> {
    const setup = await setUpNamespace(this.config, early.namespace);
    this.redirect = setup.redirect;
    for (const [server, role] of await early.listeners) {
      this.own.push(server);
      await send({ type: 'listener', ...role }, server);
    }
    // One relay socket per family for every UDP allow rule (nft redirects, netns-rules.ts).
    const p = INNER_PORTS;
    const families = setup.udpRelay ? (setup.ipv6 ? ([4, 6] as const) : ([4] as const)) : [];
    for (const family of families) {
      const socket = await bindUdp(p.udpRelay, family === 6 ? '::1' : '127.0.0.1');
      this.own.push(socket);
      await send({ type: 'listener', role: 'udp-relay', family }, socket);
    }
    await send({ type: 'ready', warnings: setup.warnings, redirect: setup.redirect });
  }

  /** The outer process holds the listeners now: close our copies and run the command. */
  start(): void {
    for (const handle of this.own) handle.close();
    const [file, ...args] = this.config.command;
    // A nested user namespace maps the caller's uid back (we are root here) and owns nothing:
    // the command cannot change the network namespace or unmount what hides the CA key.
    const child = spawn(
      'unshare',
      [
        '--user',
        `--map-user=${this.config.uid}`,
        `--map-group=${this.config.gid}`,
        '--',
        file!,
        ...args,
      ],
      { stdio: 'inherit', env: this.config.env, cwd: this.config.cwd },
    );
    this.child = child;
    child.on('error', (err) => void this.finish(null, null, err.message));
    child.on('exit', (code, signal) => void this.finish(code, signal));
    if (this.redirect && this.config.udpPollSeconds > 0)
      this.poller = setInterval(() => void this.pollUdp(), this.config.udpPollSeconds * 1000);
  }

  /** --publish: traffic to the host's socket goes to `port` on the sandbox's loopback. */
  publish(message: BridgePublish, handle: Server | UdpSocket): void {
    if (message.transport === 'udp')
      this.ingress.udp(handle as UdpSocket, message.port, message.hostPort);
    else this.ingress.tcp(handle as Server, message.port, message.hostPort);
  }

  /** A connection the host side accepted before its listener was handed over. */
  publishConnection(message: BridgePublishConnection, socket: Socket): void {
    this.ingress.tcpConnection(socket, message.port, message.hostPort);
  }

  /**
   * The UDP relay, or the catch-all TCP entrance, asks where redirected traffic was going: read
   * the nft maps (the entry is written before the socket receives the datagram or accepts the
   * connection, so a read after is complete).
   */
  async origins(request: BridgeOriginRequest): Promise<void> {
    const { id, family, proto } = request;
    const reply = { type: 'origins' as const, id, family, proto };
    try {
      await send({ ...reply, entries: await readOrigins(this.nft, proto, family) });
    } catch (err) {
      await send({ ...reply, entries: [], error: (err as Error).message }).catch(() => {});
    }
  }

  signal(name: NodeJS.Signals): void {
    try {
      this.child?.kill(name);
    } catch {
      // Already gone.
    }
  }

  /** `egress run` went away: the command has no network left, so it ends too. */
  abandon(): void {
    this.signal('SIGKILL');
    process.exit(1);
  }

  private async pollUdp(): Promise<void> {
    const current = await readDroppedUdp(this.nft);
    const fresh = newDrops(this.dropped, current);
    this.dropped = current;
    if (fresh.length && !this.finishing)
      await send({ type: 'udp', dropped: fresh }).catch(() => {});
  }

  private async finish(
    code: number | null,
    signal: NodeJS.Signals | null,
    spawnError?: string,
  ): Promise<void> {
    if (this.finishing) return;
    this.finishing = true;
    if (this.poller) clearInterval(this.poller);
    this.ingress.closeAll();
    const dropped = this.redirect ? newDrops(this.dropped, await readDroppedUdp(this.nft)) : [];
    this.nft.close();
    await send({
      type: 'exit',
      code,
      signal,
      dropped,
      ...(spawnError ? { spawnError } : {}),
    }).catch(() => {});
    process.exit(0);
  }
}

function main(): void {
  // PID 1 ignores signals it has no handler for; Ctrl-C reaches the command from the terminal
  // and `egress run` forwards the rest over IPC, so the bridge itself never dies of one.
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) process.on(s, () => {});
  let bridge: Bridge | null = null;
  const early = startEarly();
  process.on('disconnect', () => (bridge ? bridge.abandon() : process.exit(1)));
  process.on('message', (message: ToBridge, handle: unknown) => {
    if (message.type === 'config') {
      bridge = new Bridge(message);
      bridge.prepare(early).catch((err: unknown) => {
        void send({ type: 'failed', message: (err as Error).message }).finally(() =>
          process.exit(1),
        );
      });
    } else if (message.type === 'start') bridge?.start();
    else if (message.type === 'signal') bridge?.signal(message.signal);
    else if (message.type === 'publish') bridge?.publish(message, handle as Server | UdpSocket);
    else if (message.type === 'publish-connection')
      bridge?.publishConnection(message, handle as Socket);
    else if (message.type === 'origins') void bridge?.origins(message);
  });
}

main();
