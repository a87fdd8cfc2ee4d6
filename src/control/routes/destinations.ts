/** Destinations to test, as `egress check` reads them; each bad one is named by its index. */
import { parseDestinationArg, type DestinationArg } from '../../policy/destination.js';
import { ApiError, type FieldError } from '../http/problem.js';

export function parseDestinations(list: readonly string[]): DestinationArg[] {
  const errors: FieldError[] = [];
  const out: DestinationArg[] = [];
  list.forEach((d, i) => {
    const r = parseDestinationArg(d);
    if (r.ok) out.push(r.value);
    else errors.push({ field: `destinations.${i}`, code: 'invalid_destination', message: r.error });
  });
  if (errors.length)
    throw new ApiError(
      400,
      'validation_failed',
      errors.map((e) => `${e.field}: ${e.message}`).join('; '),
      { errors },
    );
  return out;
}
