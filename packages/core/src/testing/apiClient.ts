import { CLIENT_HEADER } from '../http/authHook.ts';

/** How long one API request of a test may take. */
const REQUEST_TIMEOUT_MS = 60_000;

/** A decoded JSON body: tests read it field by field and assert on the fields. */
// biome-ignore lint/suspicious/noExplicitAny: test bodies are asserted field by field.
export type Json = any;

export interface ApiResponse<T = Json> {
  status: number;
  body: T;
  headers: Headers;
}

/**
 * A tiny HTTP client for tests: real requests over loopback to a listening core.
 * `as(token)` gives a client that sends the token; `withCookie` one that sends a session
 * cookie (and the client header, unless told not to).
 */
export class ApiClient {
  readonly baseUrl: string;
  readonly #headers: Record<string, string>;

  constructor(baseUrl: string, headers: Record<string, string> = {}) {
    this.baseUrl = baseUrl;
    this.#headers = headers;
  }

  as(token: string): ApiClient {
    return new ApiClient(this.baseUrl, { authorization: `Bearer ${token}` });
  }

  withCookie(cookie: string, options: { clientHeader?: boolean } = {}): ApiClient {
    return new ApiClient(this.baseUrl, {
      cookie,
      ...(options.clientHeader === false ? {} : { [CLIENT_HEADER]: 'test' }),
    });
  }

  withHeaders(headers: Record<string, string>): ApiClient {
    return new ApiClient(this.baseUrl, { ...this.#headers, ...headers });
  }

  async request<T = Json>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...this.#headers };
    let payload: string | undefined;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    // A request core never answers fails the test with its name, instead of hanging it.
    const signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.baseUrl}${path}`, { method, headers, body: payload, signal });
      text = await response.text();
    } catch (error) {
      if (signal.aborted)
        throw new Error(`${method} ${path}: no answer from core in ${REQUEST_TIMEOUT_MS} ms`);
      throw error;
    }
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed as T, headers: response.headers };
  }

  get<T = Json>(path: string) {
    return this.request<T>('GET', path);
  }
  post<T = Json>(path: string, body?: unknown) {
    return this.request<T>('POST', path, body ?? {});
  }
  put<T = Json>(path: string, body?: unknown) {
    return this.request<T>('PUT', path, body ?? {});
  }
  patch<T = Json>(path: string, body?: unknown) {
    return this.request<T>('PATCH', path, body ?? {});
  }
  delete<T = Json>(path: string) {
    return this.request<T>('DELETE', path);
  }
}
