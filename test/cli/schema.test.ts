/** The published JSON Schema is generated from the validator's own schema and kept in sync. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { schemaText } from '../../src/cli/commands/schema.js';

it('schema/egress-policy.v1.json matches the validator (run "bin/egress schema > schema/egress-policy.v1.json")', () => {
  assert.equal(readFileSync('schema/egress-policy.v1.json', 'utf8'), schemaText());
});
