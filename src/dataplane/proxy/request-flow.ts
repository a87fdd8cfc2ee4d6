/**
 * One request through the proxy, from its arrival to its end, whatever entrance brought it
 * (HTTP forward, upgrade, CONNECT, SOCKS5, transparent): it owns the steps every request shares
 * and records each lifecycle event exactly once, in this order, all with the flow's `id`:
 *
 *   request.opened     when the flow is made for an identified client (what was asked)
 *   request.allowed |  admit(): the gate's verdict; for a tunnel whose first bytes are checked
 *   request.denied     (a TLS server name, an HTTP Host) the allow waits for them: confirm()
 *   request.closed  |  end(): how it ended (bytes, duration), or the failure noted on the way
 *   request.failed     (a DNS or dial failure ends it right away)
 *
 * A denial is durable in the audit log before the client is answered (reject()). A refusal is
 * rendered in the flow's medium: an HTTP response, raw HTTP on the socket, a SOCKS5 reply, a
 * TLS alert, or a plain close. A client that is not identified gets its 407 without events.
 *
 * This is the hot path: one object per request with fixed fields, set in the constructor, and
 * no event is composed when nothing records events (EventBus.active).
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { explain } from '../../policy/engine/explain.js';
import type { CompiledPolicy, Decision } from '../../policy/index.js';
import type { ClientContext, EventDestination, EventInput } from '../../protocol/audit-event.js';
import { EventClock } from '../../protocol/event-id.js';
import {
  codeSpec,
  denial,
  failure,
  isFailureCode,
  type FailureCode,
  type Refusal,
  type RefusalCode,
} from '../../protocol/refusals.js';
import type { RequestTarget } from '../decider/decider.js';
import type { EventBus } from '../events/event-bus.js';
import type { InspectedFlow, Interceptor } from '../inspect/interceptor.js';
import { Redactor } from '../inspect/redact.js';
import type { ProxyLimits } from '../limits.js';
import { dial, DialError } from '../net/dial.js';
import { connectThroughParent, type ParentProxy } from '../net/parent-proxy.js';
import type { ReadBufferPool } from '../net/upstream-reads.js';
import { encodeReply } from '../protocols/socks5-messages.js';
import {
  endWith,
  isDenial,
  refuseTls,
  refusalText,
  writeRaw,
  writeText,
} from '../responses/render.js';
import type { Identification, PolicyProvider } from './client-identity.js';
import type { Admission, AdmissionQuery, Gate } from './gate.js';

/** How a refusal reaches the client. */
export type Medium = 'response' | 'raw-http' | 'socks' | 'tls' | 'close' | 'none';

/** What the request is, for its closing event. */
export type FlowKind = 'forward' | 'upgrade' | 'tunnel' | 'inspected';

export interface FlowsOptions {
  gate: Gate;
  policies: PolicyProvider;
  bus: EventBus;
  limits: ProxyLimits;
  /** Read buffers for tunnels' upstream sockets (reused from tunnel to tunnel). */
  readBuffers: ReadBufferPool;
  /** Where `viaUpstreamProxy` destinations are sent (`--upstream-proxy`). */
  parentProxy?: ParentProxy;
  accessHint?: string;
}

/** The factory of RequestFlows for one proxy (in its context), and what they share. */
export class Flows {
  readonly gate: Gate;
  readonly policies: PolicyProvider;
  readonly bus: EventBus;
  readonly limits: ProxyLimits;
  readonly parentProxy: ParentProxy | undefined;
  readonly accessHint: string | undefined;
  /** TLS interception for policies in inspect mode (set once the interceptor exists). */
  inspect: Interceptor | undefined = undefined;
  /** dial()'s options for relayed tunnels: one object, not one per dial. */
  readonly relayDial: { readBuffers: ReadBufferPool };
  private readonly ids = new EventClock();

  constructor(options: FlowsOptions) {
    this.gate = options.gate;
    this.policies = options.policies;
    this.bus = options.bus;
    this.limits = options.limits;
    this.parentProxy = options.parentProxy;
    this.accessHint = options.accessHint;
    this.relayDial = { readBuffers: options.readBuffers };
  }

  /** A new request id (UUIDv7). */
  nextId(): string {
    return this.ids.id();
  }

  /**
   * A request that names its client by `proxyAuthorization` (or nothing) from `address`.
   * `socket` is the client connection (null for the forward path, which answers on `res`).
   */
  open(
    target: RequestTarget,
    proxyAuthorization: string | undefined,
    address: string | null,
    kind: FlowKind,
    medium: Medium,
    socket: Socket | null,
    res: ServerResponse | null = null,
    hostHeader?: string,
    unidentifiedNote = '',
  ): RequestFlow {
    const id = this.policies.identify(proxyAuthorization, address);
    return this.identified(id, target, kind, medium, socket, res, hostHeader, unidentifiedNote);
  }

  /** A request whose client was identified on the way in (a SOCKS5 handshake). */
  identified(
    id: Identification,
    target: RequestTarget,
    kind: FlowKind,
    medium: Medium,
    socket: Socket | null,
    res: ServerResponse | null = null,
    hostHeader?: string,
    unidentifiedNote = '',
  ): RequestFlow {
    const unidentified = id.ok ? null : failure(id.reason, `${id.message}${unidentifiedNote}`);
    const compiled = id.ok ? id.compiled : null;
    return new RequestFlow(
      this,
      this.nextId(),
      id.client,
      compiled,
      unidentified,
      target,
      hostHeader,
      kind,
      medium,
      socket,
      res,
    );
  }
}

const VERDICT_NONE = 0;
const VERDICT_PENDING = 1;
const VERDICT_RECORDED = 2;

export class RequestFlow implements AdmissionQuery, InspectedFlow {
  /** When the request arrived (performance.now()), for durationMs. */
  readonly started = performance.now();
  /** The allowing decision once admitted; the denying one once refused. */
  decision: Decision | null = null;
  /** The classified address to dial (the destination name, through a parent proxy). */
  address = '';
  viaParent = false;
  /** The path as events record it: redacted by the policy's patterns (forward and upgrades). */
  eventPath = '';
  private how = '';
  private verdict = VERDICT_NONE;
  private ended = false;
  private failureCode: RefusalCode | null = null;
  private failureMessage = '';

  constructor(
    readonly flows: Flows,
    readonly id: string,
    readonly client: ClientContext,
    readonly compiled: CompiledPolicy | null,
    /** Why the client is not identified (answered 407, recorded nowhere), or null. */
    readonly unidentified: Refusal | null,
    readonly target: RequestTarget,
    readonly hostHeader: string | undefined,
    public kind: FlowKind,
    /** How refusals reach the client; a tunnel switches to what its client speaks inside. */
    public medium: Medium,
    readonly socket: Socket | null,
    readonly res: ServerResponse | null,
  ) {
    if (unidentified === null && flows.bus.active) this.recordOpened();
  }

  /** The gate's verdict. `deferVerdict`: request.allowed waits for confirm() (first bytes). */
  async admit(deferVerdict = false): Promise<boolean> {
    if (this.unidentified) {
      this.answer(this.unidentified);
      return false;
    }
    return this.settle(await this.flows.gate.admit(this), deferVerdict);
  }

  /** admit() for a connection known by its address, looked up as `names` (transparent). */
  async admitObserved(names: readonly string[], deferVerdict = false): Promise<boolean> {
    if (this.unidentified) {
      this.answer(this.unidentified);
      return false;
    }
    return this.settle(this.flows.gate.admitObserved(this, names), deferVerdict);
  }

  private async settle(admission: Admission, deferVerdict: boolean): Promise<boolean> {
    if (!admission.ok) {
      await this.reject(admission.refusal);
      return false;
    }
    this.decision = admission.decision;
    this.address = admission.address;
    this.viaParent = admission.viaParent;
    this.how = admission.how;
    this.verdict = VERDICT_PENDING;
    if (!deferVerdict) this.confirm();
    return true;
  }

  /**
   * Records the allowing verdict that was waiting (a tunnel's first bytes passed). `instead`:
   * the decision to record in its place (monitor mode's would-deny for a fronted tunnel).
   */
  confirm(instead?: Decision): void {
    if (instead && this.decision) {
      this.decision = { ...instead, destination: this.decision.destination };
      this.how = '';
    }
    if (this.verdict !== VERDICT_PENDING) return;
    this.verdict = VERDICT_RECORDED;
    const decision = this.decision!;
    if (!this.flows.bus.active) return;
    this.flows.bus.emitLater({
      type: 'request.allowed',
      requestId: this.id,
      client: this.client,
      decision,
      destination: this.eventDestination(decision),
      description: this.how ? `${explain(decision)}${this.how}` : explain(decision),
    });
  }

  /** A denial decided outside the gate (a fronted tunnel, a protocol limit): reject(). */
  refuse(decision: Decision): Promise<void> {
    return this.reject(denial(decision));
  }

  /**
   * Records a refusal (a denial, or a failure such as a DNS error), durably before the client
   * is answered, then answers it in the flow's medium.
   */
  async reject(refusal: Refusal): Promise<void> {
    if (this.unidentified === null && !this.ended) {
      this.ended = true;
      const failed = isFailureCode(refusal.code) || this.verdict === VERDICT_RECORDED;
      if (failed && this.verdict === VERDICT_PENDING) this.confirm();
      this.decision = failed ? (this.decision ?? refusal.decision) : refusal.decision;
      this.verdict = VERDICT_RECORDED;
      try {
        await this.flows.bus.emit(
          failed ? this.failedEvent(refusal.code, refusal.message) : this.deniedEvent(refusal),
        );
      } catch {
        // The refusal stands even if it cannot be recorded; the audit failure is reported elsewhere.
      }
    }
    this.answer(refusal);
  }

  /** Answers a refusal in the client's medium (nothing is recorded). */
  answer(refusal: Refusal): void {
    const socket = this.socket;
    switch (this.medium) {
      case 'response':
        if (this.res) writeText(this.res, refusalText(refusal, this.flows.accessHint));
        return;
      case 'raw-http':
        if (socket) writeRaw(socket, refusalText(refusal, this.flows.accessHint));
        return;
      case 'socks':
        if (socket) endWith(socket, encodeReply(codeSpec(refusal.code).socks));
        return;
      case 'tls':
        if (!socket) return;
        if (isDenial(refusal)) refuseTls(socket);
        else socket.destroy();
        return;
      case 'close':
        socket?.destroy();
        return;
      case 'none':
        return;
    }
  }

  /**
   * Connects to exactly the admitted address (or through the parent proxy). On failure the
   * flow ends in request.failed and the client is answered; null then, or when the client left
   * meanwhile.
   */
  async dial(): Promise<Socket | null> {
    const flows = this.flows;
    let upstream: Socket;
    try {
      // Parent-proxy destinations (SDS custom endpoints) are named, not resolved: the parent dials.
      if (this.viaParent && flows.parentProxy)
        upstream = await connectThroughParent(
          flows.parentProxy,
          this.address,
          this.target.port,
          flows.limits.connectTimeoutMs,
        );
      else
        upstream = await dial(
          this.address,
          this.target.port,
          flows.limits.connectTimeoutMs,
          // Inspect mode terminates TLS on this socket; every other tunnel only relays its bytes.
          this.decision!.mode === 'inspect' ? {} : flows.relayDial,
        );
    } catch (err) {
      const dialFailure =
        err instanceof DialError ? err : new DialError('upstream_error', String(err));
      this.fail(dialFailure.code, dialFailure.message);
      this.answer(failure(dialFailure.code, dialFailure.message, this.decision));
      return null;
    }
    if (this.socket?.destroyed) {
      upstream.destroy();
      this.end(0, 0, 0, 'the client went away');
      return null;
    }
    return upstream;
  }

  /** Notes a failure; the request ends in request.failed (with it) instead of request.closed. */
  noteFailure(code: FailureCode, message: string): void {
    if (this.failureCode !== null) return;
    this.failureCode = code;
    this.failureMessage = message;
  }

  /** Ends the request now in request.failed, without byte counts (nothing was exchanged). */
  fail(code: FailureCode, message: string): void {
    this.noteFailure(code, message);
    this.end(-1, -1);
  }

  /**
   * The request's last event: request.failed if a failure was noted, else request.closed.
   * Bytes in are towards the client; -1 leaves the counts out. `status`: the HTTP answer's.
   */
  end(bytesIn: number, bytesOut: number, status = 0, error = ''): void {
    if (this.ended) return;
    this.ended = true;
    if (this.verdict === VERDICT_PENDING) this.confirm();
    if (!this.flows.bus.active) return;
    if (this.failureCode !== null) {
      const event = this.failedEvent(this.failureCode, this.failureMessage);
      if (bytesIn >= 0) this.addCounts(event, bytesIn, bytesOut, status);
      this.flows.bus.emitLater(event);
      return;
    }
    const d = this.decision!.destination;
    const http = this.http(status);
    this.flows.bus.emitLater({
      type: 'request.closed',
      requestId: this.id,
      client: this.client,
      decision: this.decision!,
      ...(http ? { http } : {}),
      bytesIn,
      bytesOut,
      durationMs: Math.round(performance.now() - this.started),
      description: this.closedDescription(d.host, status, error),
    });
  }

  /** Records another event of this request (inspect.exchange), with its id. */
  record(input: EventInput): void {
    if (!this.flows.bus.active) return;
    input.requestId = this.id;
    this.flows.bus.emitLater(input);
  }

  /**
   * A request inside this one (an HTTP request in an inspected tunnel) refused on its own (Host
   * fronting): recorded as a request of its own, with its own id (opened, denied).
   */
  async refuseInside(target: RequestTarget, decision: Decision): Promise<Refusal> {
    const inner = new RequestFlow(
      this.flows,
      this.flows.nextId(),
      this.client,
      this.compiled,
      null,
      target,
      undefined,
      'forward',
      'none',
      null,
      null,
    );
    const refusal = denial(decision);
    await inner.reject(refusal);
    return refusal;
  }

  /** Sets the path events record, redacted by the policy's patterns (tokens in URLs). */
  recordPath(path: string): void {
    const redact = this.compiled?.policy.redact;
    this.eventPath = redact?.length ? new Redactor(redact).text(path) : path;
  }

  private recordOpened(): void {
    const t = this.target;
    const destination: EventDestination = {
      host: t.host,
      port: t.port,
      transport: t.transport ?? 'tcp',
    };
    if (t.scheme) destination.scheme = t.scheme;
    const asked = t.host.includes(':') ? `[${t.host}]` : t.host;
    this.flows.bus.emitLater({
      type: 'request.opened',
      requestId: this.id,
      client: this.client,
      destination,
      // The path is left out: it may carry secrets that only inspect mode's redaction may record.
      ...(t.method ? { http: { method: t.method } } : {}),
      description: `${this.client.address ?? 'A client'} asked for ${asked}:${t.port}.`,
    });
  }

  private deniedEvent(refusal: Refusal): EventInput {
    const decision = refusal.decision!;
    return {
      type: 'request.denied',
      requestId: this.id,
      client: this.client,
      decision,
      destination: this.eventDestination(decision),
      description: explain(decision),
    };
  }

  private failedEvent(code: RefusalCode, message: string): EventInput {
    const decision = this.decision;
    const http = this.http(0);
    const description = code.startsWith('dns_')
      ? `Could not resolve ${decision?.destination.host ?? this.target.host}: ${message}.`
      : decision
        ? `${explain(decision)} ${message}.`
        : `${message}.`;
    const event: EventInput = {
      type: 'request.failed',
      requestId: this.id,
      client: this.client,
      reason: code,
      description,
    };
    if (decision) event.decision = decision;
    if (http) event.http = http;
    return event;
  }

  private addCounts(event: EventInput, bytesIn: number, bytesOut: number, status: number): void {
    event.bytesIn = bytesIn;
    event.bytesOut = bytesOut;
    event.durationMs = Math.round(performance.now() - this.started);
    if (status && event.http) event.http.status = status;
  }

  /** The `http` field of closing events: forward requests and upgrades. */
  private http(status: number): EventInput['http'] {
    if (this.kind !== 'forward' && this.kind !== 'upgrade') return undefined;
    const method = this.target.method ?? 'GET';
    return status ? { method, path: this.eventPath, status } : { method, path: this.eventPath };
  }

  private closedDescription(host: string, status: number, error: string): string {
    const port = this.target.port;
    const why = error ? ` (${error})` : '';
    switch (this.kind) {
      case 'forward':
        return `${this.target.method ?? 'GET'} http://${host}:${port}${this.eventPath} answered ${status}.`;
      case 'upgrade':
        return `${explain(this.decision!)} Upgrade closed.`;
      case 'inspected':
        return `Inspected tunnel to ${host}:${port} closed${why}.`;
      case 'tunnel':
        return `Tunnel to ${host}:${port} closed${why}.`;
    }
  }

  private eventDestination(decision: Decision): EventDestination {
    const d = decision.destination;
    const destination: EventDestination = d.ip
      ? { host: d.host, ip: d.ip, port: d.port, transport: d.transport }
      : { host: d.host, port: d.port, transport: d.transport };
    if (this.target.scheme) destination.scheme = this.target.scheme;
    return destination;
  }
}
