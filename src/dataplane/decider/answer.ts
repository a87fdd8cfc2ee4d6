/**
 * What a decider may answer, webhook or JS module, and how it is read. Egress's own shape is
 * `{"decision": "allow"|"deny", "reason": "..."}`; Condukt's control channel answers
 * `{"action": "allow"|"deny", "reason": "..."}`, and a module may return the bare string
 * `"allow"` or `"deny"`. Anything else is a malformed answer (decider_bad_return).
 */
export interface DeciderAnswer {
  decision: 'allow' | 'deny';
  /** The decider's own words, if it gave any. */
  reason?: string;
}

export function readAnswer(value: unknown): DeciderAnswer | undefined {
  if (value === 'allow' || value === 'deny') return { decision: value };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  const hasDecision = 'decision' in record;
  const hasAction = 'action' in record;
  // Two verdict fields could disagree: refuse rather than guess.
  if (hasDecision === hasAction) return undefined;
  const verdict = hasDecision ? record.decision : record.action;
  if (verdict !== 'allow' && verdict !== 'deny') return undefined;
  const reason = record.reason;
  if (reason !== undefined && reason !== null && typeof reason !== 'string') return undefined;
  return { decision: verdict, ...(typeof reason === 'string' && reason ? { reason } : {}) };
}
