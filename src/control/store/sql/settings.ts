/** Settings: one row per key, the value as JSON; unknown keys are refused, missing ones default. */
import { InvalidError } from '../errors.js';
import { DEFAULT_SETTINGS, type Settings } from '../records.js';
import { atomic, type Ctx } from './context.js';

function checkSetting(key: string, value: unknown): void {
  if (key === 'retentionDays') {
    if (value === null) return;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 36_500) {
      throw new InvalidError(
        'retentionDays',
        'must be a whole number of days from 1 to 36500, or null to keep every event',
      );
    }
    return;
  }
  throw new InvalidError(
    key,
    `is not a setting (known: ${Object.keys(DEFAULT_SETTINGS).join(', ')})`,
  );
}

export async function getSettings(ctx: Ctx): Promise<Settings> {
  const rows = await ctx.db.selectFrom('settings').selectAll().execute();
  const settings: Settings = { ...DEFAULT_SETTINGS };
  for (const row of rows) {
    if (row.key in settings)
      (settings as unknown as Record<string, unknown>)[row.key] = JSON.parse(row.value);
  }
  return settings;
}

export async function updateSettings(ctx: Ctx, patch: Partial<Settings>): Promise<Settings> {
  const entries = Object.entries(patch).filter(([, v]) => v !== undefined);
  for (const [key, value] of entries) checkSetting(key, value);
  return atomic(ctx, async (tx) => {
    for (const [key, value] of entries) {
      const text = JSON.stringify(value);
      await tx.db
        .insertInto('settings')
        .values({ key, value: text })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value: text }))
        .execute();
    }
    return getSettings(tx);
  });
}
