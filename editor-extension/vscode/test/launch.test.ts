import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  findOnPath,
  INSTALL_COMMAND,
  isExecutableFile,
  LaunchEnvironment,
  probeServer,
  resolveServerCommand,
  ServerNotFoundError,
  versionCommand,
} from '../src/launch';

/** A fake machine where exactly `executables` exist. */
function machine(executables: string[], pathEnv = '/usr/bin:/usr/local/bin', workspaceFolders: string[] = []): LaunchEnvironment {
  const present = new Set(executables);
  return { platform: 'linux', pathEnv, workspaceFolders, isExecutable: (file) => present.has(file) };
}

const NOTHING = { serverPath: '', python: '' };

test('vibethinker-lsp on PATH is started with serve', () => {
  const command = resolveServerCommand(NOTHING, machine(['/usr/local/bin/vibethinker-lsp']));
  assert.deepEqual(command, { command: '/usr/local/bin/vibethinker-lsp', args: ['serve'], source: 'PATH' });
});

test('a workspace .venv is used when the server is not on PATH', () => {
  const env = machine(['/proj/.venv/bin/vibethinker-lsp'], '/usr/bin', ['/proj']);
  const command = resolveServerCommand(NOTHING, env);
  assert.equal(command.command, '/proj/.venv/bin/vibethinker-lsp');
  assert.deepEqual(command.args, ['serve']);
});

test('the configured path wins over PATH', () => {
  const env = machine(['/usr/bin/vibethinker-lsp', '/opt/vt/bin/vibethinker-lsp']);
  const command = resolveServerCommand({ serverPath: '/opt/vt/bin/vibethinker-lsp', python: '/usr/bin/python3' }, env);
  assert.deepEqual(command, { command: '/opt/vt/bin/vibethinker-lsp', args: ['serve'], source: 'vibethinker.server.path' });
});

test('a configured bare command name is looked up on PATH', () => {
  const command = resolveServerCommand({ serverPath: 'vibethinker-lsp', python: '' }, machine(['/usr/bin/vibethinker-lsp']));
  assert.equal(command.command, '/usr/bin/vibethinker-lsp');
});

test('the configured interpreter runs the module', () => {
  const command = resolveServerCommand({ serverPath: '', python: '/venv/bin/python' }, machine(['/venv/bin/python']));
  assert.deepEqual(command, {
    command: '/venv/bin/python',
    args: ['-m', 'lsp_server', 'serve'],
    source: 'vibethinker.server.python',
  });
});

test('a configured path that does not exist is an error naming the setting', () => {
  assert.throws(
    () => resolveServerCommand({ serverPath: '/nope/vibethinker-lsp', python: '' }, machine(['/usr/bin/vibethinker-lsp'])),
    (error: unknown) =>
      error instanceof ServerNotFoundError &&
      error.message.includes('vibethinker.server.path') &&
      error.message.includes('/nope/vibethinker-lsp') &&
      error.installCommand === INSTALL_COMMAND,
  );
});

test('a missing interpreter suggests installing into that interpreter', () => {
  assert.throws(
    () => resolveServerCommand({ serverPath: '', python: 'python9' }, machine([])),
    (error: unknown) =>
      error instanceof ServerNotFoundError &&
      error.message.includes('vibethinker.server.python') &&
      error.installCommand === `python9 -m ${INSTALL_COMMAND}`,
  );
});

test('nothing found: the error carries the install command', () => {
  assert.throws(
    () => resolveServerCommand(NOTHING, machine(['/usr/bin/python3'], '/usr/bin', ['/proj'])),
    (error: unknown) =>
      error instanceof ServerNotFoundError && error.message.includes(INSTALL_COMMAND) && error.installCommand === INSTALL_COMMAND,
  );
});

test('Windows: PATH uses ; and programs end in .exe', () => {
  const env: LaunchEnvironment = {
    platform: 'win32',
    pathEnv: 'C:\\Python\\Scripts;C:\\Windows',
    workspaceFolders: [],
    isExecutable: (file) => file === 'C:\\Python\\Scripts\\vibethinker-lsp.exe',
  };
  assert.equal(findOnPath('vibethinker-lsp', env), 'C:\\Python\\Scripts\\vibethinker-lsp.exe');
});

test('the version probe swaps serve for --version', () => {
  const probe = versionCommand({ command: '/py', args: ['-m', 'lsp_server', 'serve'], source: 'vibethinker.server.python' });
  assert.deepEqual(probe.args, ['-m', 'lsp_server', '--version']);
});

/** Write an executable shell script into a fresh temporary folder. */
function script(body: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vibethinker-launch-'));
  const file = path.join(dir, 'fake-server');
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

test('probing a working server returns its version line', { skip: process.platform === 'win32' }, async () => {
  const file = script('[ "$1" = "--version" ] && echo "vibethinker-lsp 9.9.9" && exit 0; exit 3');
  assert.equal(isExecutableFile(file), true);
  const version = await probeServer({ command: file, args: ['serve'], source: 'PATH' });
  assert.equal(version, 'vibethinker-lsp 9.9.9');
});

test('probing an interpreter without the package rejects with its install command', { skip: process.platform === 'win32' }, async () => {
  const file = script('echo "No module named lsp_server" >&2; exit 1');
  await assert.rejects(
    probeServer({ command: file, args: ['-m', 'lsp_server', 'serve'], source: 'vibethinker.server.python' }),
    (error: unknown) =>
      error instanceof ServerNotFoundError &&
      error.message.includes('No module named lsp_server') &&
      error.installCommand === `${file} -m ${INSTALL_COMMAND}`,
  );
});

test('a folder is not an executable file', () => {
  assert.equal(isExecutableFile(tmpdir()), false);
});
