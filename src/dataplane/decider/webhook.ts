/**
 * The webhook decider: POST JSON to the decider's URL, read `{"decision": ..., "reason": ...}`
 * (or Condukt's `{"action": ...}`). Non-2xx and network errors are decider_error; a body that is
 * not JSON is decider_bad_return; the caller's deadline aborts the request (decider_timeout).
 */
import { DeciderFailure } from './failure.js';

/** Answers larger than this are not a decision. */
const MAX_ANSWER_BYTES = 64 * 1024;

export interface WebhookRequest {
  workspace: string | null;
  session: string | null;
  user: string | null;
  policy: { name: string; version: string };
  request: {
    host: string;
    port: number;
    transport: string;
    scheme: string | null;
    method: string | null;
    path: string | null;
  };
  rule: { index: number; kind: string; source: string | null; pattern: string } | null;
  metadata?: Record<string, string>;
}

export async function callWebhook(
  url: string,
  body: WebhookRequest,
  signal: AbortSignal,
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      signal,
      redirect: 'error',
    });
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new DeciderFailure(
      'decider_error',
      `the decider webhook ${url} could not be reached (${cause?.code ?? cause?.message ?? (err as Error).message})`,
    );
  }
  const text = await readLimited(response, url);
  if (!response.ok)
    throw new DeciderFailure(
      'decider_error',
      `the decider webhook ${url} answered HTTP ${response.status}`,
    );
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new DeciderFailure(
      'decider_bad_return',
      `the decider webhook ${url} answered something that is not JSON`,
    );
  }
}

async function readLimited(response: Response, url: string): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > MAX_ANSWER_BYTES) {
    await response.body?.cancel();
    throw new DeciderFailure(
      'decider_bad_return',
      `the decider webhook ${url} answered ${declared} bytes; a decision is at most ${MAX_ANSWER_BYTES}`,
    );
  }
  const text = await response.text();
  if (text.length > MAX_ANSWER_BYTES)
    throw new DeciderFailure(
      'decider_bad_return',
      `the decider webhook ${url} answered more than ${MAX_ANSWER_BYTES} bytes`,
    );
  return text;
}
