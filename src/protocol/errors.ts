/**
 * One base for egress's coded errors (the undici `UND_ERR_*` / fastify `createError` lesson):
 * `code` is one word from the registry in refusals.ts, so every medium can render the failure
 * the same way (HTTP status, SOCKS reply) and the audit event can carry it as its `reason`.
 */
export class EgressError<Code extends string = string> extends Error {
  override name = 'EgressError';

  constructor(
    readonly code: Code,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
