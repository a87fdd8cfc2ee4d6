/**
 * Which names the policy-aware DNS answered with which addresses, for deciding traffic that
 * arrives with an address only. The sandbox's UDP relay sees a datagram's destination address,
 * never a name; when the program learned that address by asking our DNS for a name the policy
 * allows (a UDP rule with a host pattern such as `*.pool.ntp.org`), the relay decides the flow
 * by that name, as the proxy decides a connection by its name (Cilium's toFQDNs works this way).
 *
 * Only answers to names the policy let the DNS answer are recorded, and the names recorded are
 * the ones the program asked for (a CNAME target is not a name the policy judged). An address
 * nobody looked up here has no names, so its flow is judged by the address alone: fail closed.
 *
 * Entries live for the record's TTL, but at least MIN_HOLD_S (programs keep answers longer than
 * their TTL, and a flow often starts a moment after the lookup) and at most MAX_HOLD_S. At most
 * MAX_ADDRESSES addresses are kept; the longest-unrefreshed go first.
 */
import type { Answer } from 'dns-packet';
import { parseIp } from '../../policy/index.js';

const MIN_HOLD_S = 600;
const MAX_HOLD_S = 86_400;
const MAX_ADDRESSES = 4096;
const MAX_NAMES_PER_ADDRESS = 16;

export class AnsweredNames {
  /** Canonical address → name → expiry (ms). Map order: least recently refreshed first. */
  private readonly byAddress = new Map<string, Map<string, number>>();

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.byAddress.size;
  }

  /** Records the A and AAAA records of an answer the DNS gave for `name`. */
  record(name: string, answers: readonly Answer[]): void {
    const now = this.now();
    for (const answer of answers) {
      if (answer.type !== 'A' && answer.type !== 'AAAA') continue;
      const ip = parseIp(String(answer.data));
      if (!ip.ok) continue;
      const holdS = Math.min(MAX_HOLD_S, Math.max(MIN_HOLD_S, answer.ttl ?? 0));
      this.add(ip.value.text, name, now + holdS * 1000);
    }
  }

  /** The names the DNS answered with `address` that have not expired. */
  namesFor(address: string): string[] {
    const ip = parseIp(address);
    if (!ip.ok) return [];
    const names = this.byAddress.get(ip.value.text);
    if (!names) return [];
    const now = this.now();
    const out: string[] = [];
    for (const [name, expires] of names) {
      if (expires > now) out.push(name);
      else names.delete(name);
    }
    if (names.size === 0) this.byAddress.delete(ip.value.text);
    return out;
  }

  private add(address: string, name: string, expires: number): void {
    const names = this.byAddress.get(address) ?? new Map<string, number>();
    // Re-inserted at the end: the map's order is the eviction order.
    this.byAddress.delete(address);
    this.byAddress.set(address, names);
    const prior = names.get(name) ?? 0;
    names.delete(name);
    names.set(name, Math.max(expires, prior));
    if (names.size > MAX_NAMES_PER_ADDRESS) names.delete(names.keys().next().value!);
    if (this.byAddress.size > MAX_ADDRESSES)
      this.byAddress.delete(this.byAddress.keys().next().value!);
  }
}
