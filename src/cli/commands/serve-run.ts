/**
 * `egress serve` at run time: checks the flags, finds the host's registries, and runs the
 * control plane (src/control/serve.ts); a ServeFailure exits 1.
 */
import { serveControlPlane, ServeFailure } from '../../control/serve.js';
import { findHostRegistries } from '../../dataplane/host-registries.js';
import { EXIT_OK, RuntimeFailure } from '../errors.js';
import type { Io } from '../io.js';
import { parseListen } from './proxy-options.js';
import type { ServeOptions } from './serve.js';

export async function runServe(options: ServeOptions, io: Io): Promise<number> {
  const listen = parseListen(options.listen);
  const registries = findHostRegistries();
  try {
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
    if (err instanceof ServeFailure) throw new RuntimeFailure(err.message);
    throw err;
  }
  return EXIT_OK;
}
