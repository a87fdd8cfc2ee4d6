/**
 * `egress serve` at run time: checks the flags, finds the host's registries, and runs the
 * control plane (src/control/serve.ts); a ServeFailure exits 1.
 *
 * This module is loaded from dist/src, outside the CLI bundle (serve.ts), so its error classes
 * are not the bundle's: main.ts's `instanceof` would miss them and call a bad --listen an
 * internal error. The exit codes are therefore decided here, in this module's own classes.
 */
import { serveControlPlane, ServeFailure } from '../../control/serve.js';
import { findHostRegistries } from '../../dataplane/host-registries.js';
import { ConfigError, EXIT_INVALID, EXIT_OK, EXIT_RUNTIME } from '../errors.js';
import type { Io } from '../io.js';
import { parseListen } from './proxy-options.js';
import type { ServeOptions } from './serve.js';

export async function runServe(options: ServeOptions, io: Io): Promise<number> {
  try {
    const listen = parseListen(options.listen);
    const registries = findHostRegistries();
    await serveControlPlane(
      {
        listen,
        listenText: options.listen,
        dataDir: options.dataDir,
        ...(options.db !== undefined ? { db: options.db } : {}),
        ...(process.env.EGRESS_ADMIN_TOKEN ? { adminToken: process.env.EGRESS_ADMIN_TOKEN } : {}),
        hostRegistries: registries.all,
        ecosystemExtras: registries.byEcosystem,
      },
      io,
    );
  } catch (err) {
    if (err instanceof ServeFailure) {
      io.err(`egress: ${err.message}\n`);
      return EXIT_RUNTIME;
    }
    if (err instanceof ConfigError) {
      io.err(`egress: ${err.message}\n`);
      return EXIT_INVALID;
    }
    throw err;
  }
  return EXIT_OK;
}
