/** Polling for tests: events and logs arrive asynchronously after the answer a client saw. */

/** Waits until `predicate` holds, checking every 10 ms; throws after `timeoutMs`. */
export async function eventually(predicate: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
