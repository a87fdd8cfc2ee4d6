/**
 * The console's only door to the control plane: fetch with the bearer token, JSON in and out,
 * and every failure turned into an ApiError whose message is the API's own words (the problem
 * document's detail and each field error with its LINE:COL), for the screen to show next to
 * the control that caused it.
 */
import type { FieldError } from './types.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors: FieldError[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** One paragraph: the detail, then every field error ("line 3:5: …"). */
  get words(): string {
    const parts = this.errors.map((e) => {
      const at = e.line
        ? `line ${e.line}${e.col ? `:${e.col}` : ''}: `
        : e.field
          ? `${e.field}: `
          : '';
      return `${at}${e.message}${e.hint ? ` — ${e.hint}` : ''}`;
    });
    return [this.message, ...parts].join('\n');
  }
}

interface Problem {
  detail?: string;
  title?: string;
  code?: string;
  errors?: FieldError[];
}

export async function problemOf(res: Response): Promise<ApiError> {
  let body: Problem = {};
  try {
    body = (await res.json()) as Problem;
  } catch {
    // not JSON: keep the status line
  }
  const detail = body.detail ?? body.title ?? `${res.status} ${res.statusText}`;
  return new ApiError(res.status, body.code ?? `http_${res.status}`, detail, body.errors ?? []);
}

export class Api {
  constructor(
    private readonly token: string,
    private readonly base = '/api/v1',
  ) {}

  async raw(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new ApiError(0, 'network', `cannot reach the control plane: ${(err as Error).message}`);
    }
    if (!res.ok) throw await problemOf(res);
    return res;
  }

  async json<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const res = await this.raw(method, path, body, signal);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.json<T>('GET', path, undefined, signal);
  }

  /** A file the API offers (CSV report, audit export), saved through a temporary link. */
  async download(path: string, fallbackName: string): Promise<void> {
    const res = await this.raw('GET', path);
    const disposition = res.headers.get('content-disposition') ?? '';
    const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? fallbackName;
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
}

export function errorWords(err: unknown): string {
  if (err instanceof ApiError) return err.words;
  return err instanceof Error ? err.message : String(err);
}
