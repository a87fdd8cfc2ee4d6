/**
 * Server-Sent Events framing (text/event-stream, WHATWG HTML 9.2): one `audit` event per stored
 * audit event with its id (so a reconnecting client sends Last-Event-ID), comments as
 * heartbeats so proxies keep the connection open.
 */
export function sseEvent(name: string, id: string | null, data: unknown): string {
  const lines = JSON.stringify(data)
    .split('\n')
    .map((l) => `data: ${l}`)
    .join('\n');
  return `${id ? `id: ${id}\n` : ''}event: ${name}\n${lines}\n\n`;
}

export function sseComment(text: string): string {
  return `: ${text.replace(/\n/g, ' ')}\n\n`;
}
