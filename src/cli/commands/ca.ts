/**
 * `egress ca export`: prints the workspace's inspection CA certificate (PEM), creating the CA if
 * there is none yet, so clients can be told to trust it. The key never leaves the state folder.
 */
import {
  CertificateAuthority,
  defaultStateDir,
} from '../../dataplane/inspect/certificate-authority.js';
import { EXIT_OK, EXIT_RUNTIME } from '../errors.js';
import type { Io } from '../io.js';

export interface CaExportOptions {
  stateDir?: string;
  workspace?: string;
}

export async function runCaExport(options: CaExportOptions, io: Io): Promise<number> {
  const stateDir = options.stateDir ?? defaultStateDir();
  const workspace = options.workspace ?? 'default';
  let ca: CertificateAuthority;
  try {
    ca = await CertificateAuthority.open(stateDir, workspace);
  } catch (err) {
    io.err(
      `egress: cannot open the inspection CA of workspace "${workspace}" in ${stateDir}: ${(err as Error).message}\n`,
    );
    return EXIT_RUNTIME;
  }
  io.out(ca.certificatePem);
  return EXIT_OK;
}
