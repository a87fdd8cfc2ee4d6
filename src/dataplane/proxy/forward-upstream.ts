/**
 * The keep-alive pools for plain-HTTP forwarding (undici, one pool per dialled IP:port), made
 * on the first forwarded request. undici takes ~100 ms to load; most traffic is CONNECT, and
 * `egress run` must start fast, so nothing pays for it until plain HTTP is actually proxied.
 */
import type { Dispatcher } from 'undici';

export interface ForwardUpstreamOptions {
  connectTimeoutMs: number;
  idleTimeoutMs: number;
}

export class ForwardUpstream {
  private agent: Promise<Dispatcher> | null = null;

  constructor(private readonly options: ForwardUpstreamOptions) {}

  get(): Promise<Dispatcher> {
    this.agent ??= import('undici').then((mod) => {
      // undici is CommonJS: bundled, its exports sit under `default`.
      const { Agent } = mod.default ?? mod;
      return new Agent({
        connections: 512,
        pipelining: 1,
        connectTimeout: this.options.connectTimeoutMs,
        headersTimeout: this.options.idleTimeoutMs,
        bodyTimeout: this.options.idleTimeoutMs,
      });
    });
    return this.agent;
  }

  async close(): Promise<void> {
    if (!this.agent) return;
    const agent = await this.agent;
    await agent.destroy().catch(() => undefined);
  }
}
