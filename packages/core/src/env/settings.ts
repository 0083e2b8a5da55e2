import { SETTINGS, shownValue, type Setting, type SettingName, type ValueOf } from "../domain/settings.js";
import { ConfigError } from "./config-error.js";
import type { Env } from "./primitives.js";

/**
 * The server default a variable sets, validated by the setting's schema (the same one a
 * repository's file is validated by); undefined when the variable is not set. Throws a
 * ConfigError naming the variable.
 */
export function settingFromEnv<K extends SettingName>(env: Env, name: K): ValueOf<K> | undefined {
  const entry: Setting<unknown> = SETTINGS[name];
  if (entry.env === undefined) return undefined;
  const raw = env[entry.env];
  if (raw === undefined || (entry.blankIsUnset === true && raw.trim() === "")) return undefined;
  const parsed = entry.schema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(entry.env, `${entry.expect}, got ${shownValue(raw.trim())}`);
  return parsed.data as ValueOf<K>;
}
