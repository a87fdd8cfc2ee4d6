/** `egress schema`: the JSON Schema of the native format, generated from the validator's schema. */
import { nativeJsonSchema } from '../../policy/formats/native/schema.js';
import { EXIT_OK } from '../errors.js';
import type { Io } from '../io.js';

export function schemaText(): string {
  return JSON.stringify(nativeJsonSchema(), null, 2) + '\n';
}

export function runSchema(io: Io): number {
  io.out(schemaText());
  return EXIT_OK;
}
