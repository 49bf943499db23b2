import http from 'node:http';
import net from 'node:net';

/**
 * HTTP requests with full control over method, path, header lines (repeated ones too) and body
 * bytes, which fetch does not give. Also raw socket writes, for requests no client would form.
 */

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface RawRequest {
  method?: string;
  path: string;
  /** Header lines in order; a name given twice is sent as two lines. */
  headers?: [string, string][];
  body?: Buffer | string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/** Sends one request; rejects only for transport errors (and invalid header names/values, synchronously). */
export function rawRequest(baseUrl: string, request: RawRequest): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const grouped = new Map<string, string[]>();
  for (const [name, value] of request.headers ?? [])
    grouped.set(name, [...(grouped.get(name) ?? []), value]);
  return new Promise((resolve, reject) => {
    // Validated first: a request that throws half-built would hang on its socket.
    for (const [name, values] of grouped) {
      http.validateHeaderName(name);
      for (const value of values) http.validateHeaderValue(name, value);
    }
    const req = http.request({
      host: url.hostname,
      port: url.port,
      method: request.method ?? 'GET',
      path: request.path,
      agent,
    });
    req.on('error', reject);
    for (const [name, values] of grouped)
      req.setHeader(name, values.length === 1 ? (values[0] as string) : values);
    // Node frames a GET/DELETE/OPTIONS body with nothing (it runs until the connection closes),
    // which would corrupt the kept-alive connection: give every body its length.
    if (
      request.body !== undefined &&
      !grouped.has('content-length') &&
      !grouped.has('transfer-encoding')
    ) {
      req.setHeader('content-length', Buffer.byteLength(request.body));
    }
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.end(request.body);
  });
}

/** Writes bytes to a fresh connection and returns whatever comes back before the server closes it (or `timeoutMs`). */
export function rawSocket(
  baseUrl: string,
  bytes: string | Buffer,
  timeoutMs = 2_000,
): Promise<string> {
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    const socket = net.connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', done);
    socket.on('close', done);
    socket.write(bytes);
  });
}

/** Status codes in every response on a raw connection (`HTTP/1.1 400 ...`). */
export function statusCodes(raw: string): number[] {
  return [...raw.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((match) => Number(match[1]));
}
