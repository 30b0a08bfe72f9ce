/**
 * Mapping between VS Code's `vibethinker.*` configuration and the server's settings tree.
 *
 * Free of the `vscode` import so it runs in plain Node for unit tests.
 */

/** The configuration section the extension owns. */
export const SECTION = 'vibethinker';

/** Settings that only the extension reads (how to launch the server, tracing); never sent to the server. */
export const EXTENSION_ONLY_GROUPS = ['server', 'trace'];

/** One property in package.json's `contributes.configuration`. */
export interface PropertySchema {
  type?: string;
  default?: unknown;
  description?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
}

/** One block of `contributes.configuration` (VS Code accepts one object or an array of them). */
export interface ConfigurationBlock {
  title?: string;
  properties?: Record<string, PropertySchema>;
}

/** The server's nested settings object, e.g. `{model: {backend: 'openai'}, generation: {...}}`. */
export type ServerSettings = Record<string, Record<string, unknown>>;

/** Whether a key below `vibethinker.` (e.g. `server.path`) is read by the extension only. */
export function isExtensionOnly(key: string): boolean {
  return EXTENSION_ONLY_GROUPS.includes(key.split('.')[0]);
}

/** The keys below `vibethinker.` that the server understands, in package.json order. */
export function serverSettingKeys(configuration: ConfigurationBlock | ConfigurationBlock[]): string[] {
  const blocks = Array.isArray(configuration) ? configuration : [configuration];
  const prefix = `${SECTION}.`;
  const keys: string[] = [];
  for (const block of blocks) {
    for (const name of Object.keys(block.properties ?? {})) {
      if (name.startsWith(prefix) && !isExtensionOnly(name.slice(prefix.length))) {
        keys.push(name.slice(prefix.length));
      }
    }
  }
  return keys;
}

/**
 * Build the server's settings object from a getter over the `vibethinker` section.
 *
 * `get('model.backend')` returns the effective value (user, workspace or default); undefined values are left
 * out so the server keeps its own defaults for them.
 */
export function toServerSettings(keys: string[], get: (key: string) => unknown): ServerSettings {
  const result: ServerSettings = {};
  for (const key of keys) {
    if (isExtensionOnly(key)) {
      continue;
    }
    const dot = key.indexOf('.');
    if (dot <= 0) {
      continue;
    }
    const value = get(key);
    if (value === undefined) {
      continue;
    }
    const group = key.slice(0, dot);
    const name = key.slice(dot + 1);
    result[group] ??= {};
    result[group][name] = value;
  }
  return result;
}
