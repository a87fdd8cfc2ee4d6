/**
 * The floor: the least a Node proxy can do, for `ab.ts` (variant `NAME=@floor`). HTTP forward
 * through node:http's server and undici's `dispatch`, CONNECT through node:http's 'connect'
 * event, `net.connect` and `pipe`. No policy, no events, no checks, no limits: whatever egress
 * spends above this figure is egress's own work; what this spends is Node's I/O layer.
 *
 * Arguments as `egress proxy` gets them from ab.ts (only --listen and --resolve are read).
 */
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { Agent } from 'undici';

const argv = process.argv;
const after = (flag: string) => argv[argv.indexOf(flag) + 1] ?? '';
const [host, port] = after('--listen').split(':');
const [name, address] = after('--resolve').split('=');
const resolveName = (h: string) => (h === name ? address! : h);
const agent = new Agent({ connections: 256, pipelining: 1 });
const HOP = /^(connection|keep-alive|transfer-encoding|proxy-connection)$/i;

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/');
  agent.dispatch(
    {
      origin: `http://${resolveName(url.hostname)}:${url.port || 80}`,
      path: url.pathname + url.search,
      method: req.method as 'GET',
      headers: { host: url.host },
      body: req.method === 'GET' || req.method === 'HEAD' ? null : req,
    },
    {
      onConnect() {},
      onError(err: Error) {
        res.destroy(err);
      },
      onHeaders(status: number, raw: Buffer[]) {
        const headers: string[] = [];
        for (let i = 0; i < raw.length; i += 2) {
          const key = raw[i]!.toString();
          if (!HOP.test(key)) headers.push(key, raw[i + 1]!.toString());
        }
        res.writeHead(status, headers);
        return true;
      },
      onData(chunk: Buffer) {
        return res.write(chunk);
      },
      onComplete() {
        res.end();
      },
    },
  );
});

server.on('connect', (req, socket, head: Buffer) => {
  const [target, targetPort] = (req.url ?? '').split(':');
  const upstream = connect(Number(targetPort), resolveName(target ?? ''), () => {
    socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
    if (head.length) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  upstream.on('error', () => socket.destroy());
  socket.on('error', () => upstream.destroy());
});

server.listen(Number(port), host);
process.on('SIGTERM', () => process.exit(0));
