/** A policy's `tests:` block: run it against a compiled policy, and down the scope hierarchy. */
export * from './types.js';
export { runPolicyTests } from './run.js';
export { testFailureDiagnostics } from './diagnostics.js';
export {
  failingTestsDownTheHierarchy,
  policiesWhoseTestsMustHold,
  testSuitesFor,
} from './hierarchy.js';
