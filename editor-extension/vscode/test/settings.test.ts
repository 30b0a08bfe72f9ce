import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ConfigurationBlock, isExtensionOnly, serverSettingKeys, toServerSettings } from '../src/settings';

/** package.json's configuration blocks, as the extension reads them at run time. */
function contributedConfiguration(): ConfigurationBlock[] {
  const file = path.join(__dirname, '..', '..', 'package.json');
  return JSON.parse(readFileSync(file, 'utf8')).contributes.configuration;
}

/** A getter over a flat map of values, like WorkspaceConfiguration.get. */
function getterOver(values: Record<string, unknown>): (key: string) => unknown {
  return (key) => values[key];
}

test('server keys come from package.json and leave out the launch and trace settings', () => {
  const keys = serverSettingKeys(contributedConfiguration());
  assert.ok(keys.includes('model.backend'));
  assert.ok(keys.includes('generation.candidates'));
  assert.ok(keys.includes('companion.port'));
  assert.ok(!keys.some((key) => key.startsWith('server.') || key.startsWith('trace.')), keys.join(', '));
  const sections = new Set(keys.map((key) => key.split('.')[0]));
  assert.deepEqual([...sections].sort(), ['companion', 'completions', 'generation', 'history', 'hover', 'judge', 'model', 'verification']);
});

test('a flat configuration becomes the nested initializationOptions the server reads', () => {
  const keys = ['model.backend', 'model.baseUrl', 'generation.candidates', 'completions.enabled'];
  const options = toServerSettings(
    keys,
    getterOver({
      'model.backend': 'openai',
      'model.baseUrl': 'http://127.0.0.1:9/v1',
      'generation.candidates': 2,
      'completions.enabled': false,
    }),
  );
  assert.deepEqual(options, {
    model: { backend: 'openai', baseUrl: 'http://127.0.0.1:9/v1' },
    generation: { candidates: 2 },
    completions: { enabled: false },
  });
});

test('every contributed server setting is sent with its default when the user set nothing', () => {
  const config = contributedConfiguration();
  const defaults: Record<string, unknown> = {};
  for (const block of config) {
    for (const [name, schema] of Object.entries(block.properties ?? {})) {
      defaults[name.slice('vibethinker.'.length)] = schema.default;
    }
  }
  const options = toServerSettings(serverSettingKeys(config), getterOver(defaults));
  assert.equal(options.model.backend, 'transformers');
  assert.equal(options.generation.temperature, null); // null: the server uses the model's own default
  const sent = Object.entries(options).flatMap(([section, values]) => Object.keys(values).map((k) => `${section}.${k}`));
  assert.deepEqual(sent.sort(), serverSettingKeys(config).sort());
  assert.ok(!('server' in options) && !('trace' in options));
});

test('unset values are left out and extension-only keys are never sent', () => {
  const options = toServerSettings(
    ['model.name', 'model.apiKey', 'server.path', 'server.python', 'trace.server'],
    getterOver({ 'model.name': 'x', 'server.path': '/bin/vibethinker-lsp', 'server.python': 'python3', 'trace.server': 'verbose' }),
  );
  assert.deepEqual(options, { model: { name: 'x' } });
});

test('false, zero and empty strings are real values and are sent', () => {
  const options = toServerSettings(
    ['hover.enabled', 'generation.thinkingBudget', 'model.apiKey'],
    getterOver({ 'hover.enabled': false, 'generation.thinkingBudget': 0, 'model.apiKey': '' }),
  );
  assert.deepEqual(options, { hover: { enabled: false }, generation: { thinkingBudget: 0 }, model: { apiKey: '' } });
});

test('isExtensionOnly tells launch settings from server settings', () => {
  assert.equal(isExtensionOnly('server.path'), true);
  assert.equal(isExtensionOnly('trace.server'), true);
  assert.equal(isExtensionOnly('model.backend'), false);
  assert.equal(isExtensionOnly('judge.python'), false);
});
