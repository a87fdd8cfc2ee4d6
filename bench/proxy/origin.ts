/**
 * The benchmark's origin, run as its own process: `node origin.js PORT`.
 *   GET /              → 200 "ok\n" (keep-alive)
 *   GET /bulk?bytes=N  → N bytes streamed from a reused 1 MiB buffer, with backpressure
 * Idle keep-alive connections are kept for two minutes so idle tunnels stay open.
 */
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
const chunk = Buffer.alloc(1 << 20, 0x61);
const small = Buffer.from('ok\n');

const server = createServer((req, res) => {
  if (req.url?.startsWith('/bulk')) {
    let left = Number(/bytes=([0-9]+)/.exec(req.url)?.[1] ?? 0);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': left });
    const pump = () => {
      while (left > 0) {
        const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= piece.length;
        if (!res.write(piece)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': small.length });
  res.end(small);
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 130_000;
server.requestTimeout = 0;
server.maxRequestsPerSocket = 0;
server.listen({ port, host: '127.0.0.1', backlog: 4096 });
process.on('SIGTERM', () => process.exit(0));
