/**
 * Benchmark runner (`npm run bench [-- SECTION ...] [--quick]`). Sections: proxy.
 * With no section named, every section runs.
 */
import { runProxyBench } from './proxy/index.js';

const SECTIONS: Record<string, (quick: boolean) => Promise<void>> = {
  proxy: (quick) => runProxyBench({ quick }),
};

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const named = args.filter((a) => !a.startsWith('-'));
  const unknown = named.filter((a) => !(a in SECTIONS));
  if (unknown.length) {
    console.error(`unknown section "${unknown[0]}"; sections: ${Object.keys(SECTIONS).join(', ')}`);
    return 2;
  }
  for (const name of named.length ? named : Object.keys(SECTIONS)) await SECTIONS[name]!(quick);
  return 0;
}

process.exitCode = await main();
