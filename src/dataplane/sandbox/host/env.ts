/**
 * The command's environment: the caller's, plus the proxy variables (both cases, as tools read
 * one or the other) pointing at the sandbox's loopback proxy, and in inspect mode the CA
 * variables pointing at a bundle of the system store and the session CA.
 *
 * NO_PROXY keeps loopback direct: inside the sandbox 127.0.0.1 is the sandbox's own loopback
 * (a dev server the command starts), never the host's, which the proxy would reach instead.
 */
import { INNER_PORTS } from '../protocol.js';

export const PROXY_URL = `http://127.0.0.1:${INNER_PORTS.proxy}`;
export const SOCKS_URL = `socks5h://127.0.0.1:${INNER_PORTS.proxy}`;
export const NO_PROXY = 'localhost,127.0.0.1,::1';

/** Variables that point TLS clients at a CA bundle (curl, git, Python requests, OpenSSL). */
export const CA_BUNDLE_VARIABLES = [
  'SSL_CERT_FILE',
  'REQUESTS_CA_BUNDLE',
  'CURL_CA_BUNDLE',
  'GIT_SSL_CAINFO',
] as const;

export interface TrustFiles {
  /** The session CA certificate alone (node adds it to its built-in store). */
  caCert: string;
  /** The system store plus the session CA (tools that replace their store with the file). */
  bundle: string;
}

/**
 * `credentials` (`user:password`, from `--proxy URL`) go into the proxy variables: the
 * sandbox's proxy port passes them through to the running proxy, which identifies by them.
 */
export function sandboxEnv(
  base: NodeJS.ProcessEnv,
  trust: TrustFiles | null,
  credentials?: string,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  const auth = credentials ? `${credentials.split(':').map(encodeURIComponent).join(':')}@` : '';
  const withAuth = (url: string) => url.replace('://', `://${auth}`);
  for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy'])
    env[name] = withAuth(PROXY_URL);
  env.ALL_PROXY = env.all_proxy = withAuth(SOCKS_URL);
  env.NO_PROXY = env.no_proxy = NO_PROXY;
  if (trust) {
    env.NODE_EXTRA_CA_CERTS = trust.caCert;
    for (const name of CA_BUNDLE_VARIABLES) env[name] = trust.bundle;
  }
  return env;
}
