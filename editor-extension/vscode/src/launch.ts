/**
 * How the extension finds and starts the language server: the configured command, the configured Python
 * interpreter, or `vibethinker-lsp` on PATH or in a workspace virtual environment.
 *
 * Free of the `vscode` import so it runs in plain Node for unit tests.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import * as path from 'node:path';

/** The command users run to install the server. */
export const INSTALL_COMMAND = 'pip install vibethinker-lsp';

/** The server's console script. */
export const SERVER_SCRIPT = 'vibethinker-lsp';

/** The extension-only launch settings (`vibethinker.server.*`). */
export interface LaunchSettings {
  /** `vibethinker.server.path`: the server command (a path or a name on PATH). */
  serverPath: string;
  /** `vibethinker.server.python`: an interpreter that has the `lsp_server` package. */
  python: string;
}

/** What the launch logic needs to know about the machine; injected so tests can fake it. */
export interface LaunchEnvironment {
  platform: NodeJS.Platform;
  /** The PATH variable. */
  pathEnv: string;
  /** Open workspace folders (file-system paths), searched for `.venv`/`venv` with the server. */
  workspaceFolders: string[];
  /** Whether a file exists and can be executed. */
  isExecutable(file: string): boolean;
}

/** A resolved way to run the server. */
export interface ServerCommand {
  command: string;
  args: string[];
  /** Where the command came from, for the output channel. */
  source: string;
}

/** The server could not be found; `message` is one sentence for the user, `installCommand` what to run. */
export class ServerNotFoundError extends Error {
  constructor(
    message: string,
    readonly installCommand: string,
  ) {
    super(message);
    this.name = 'ServerNotFoundError';
  }
}

/** The machine's real environment. */
export function processEnvironment(workspaceFolders: string[]): LaunchEnvironment {
  return {
    platform: process.platform,
    pathEnv: process.env.PATH ?? '',
    workspaceFolders,
    isExecutable: isExecutableFile,
  };
}

/** Whether a path is a regular file we may execute. */
export function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) {
      return false;
    }
    accessSync(file, process.platform === 'win32' ? constants.F_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether a command names a path (has a separator) rather than a program to look up on PATH. */
function isPathLike(command: string, platform: NodeJS.Platform): boolean {
  return command.includes('/') || (platform === 'win32' && command.includes('\\'));
}

/** File names a program may have on this platform. */
function executableNames(name: string, platform: NodeJS.Platform): string[] {
  return platform === 'win32' ? [`${name}.exe`, `${name}.cmd`, name] : [name];
}

/** The path module for a platform (so tests on Linux can check Windows paths). */
function pathFor(platform: NodeJS.Platform): path.PlatformPath {
  return platform === 'win32' ? path.win32 : path.posix;
}

/** Find a program on PATH; undefined when it is not there. */
export function findOnPath(name: string, env: LaunchEnvironment): string | undefined {
  const p = pathFor(env.platform);
  const separator = env.platform === 'win32' ? ';' : ':';
  for (const dir of env.pathEnv.split(separator)) {
    if (!dir) {
      continue;
    }
    for (const file of executableNames(name, env.platform)) {
      const candidate = p.join(dir, file);
      if (env.isExecutable(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

/** The server script inside a workspace's `.venv` or `venv`, if one has it. */
export function findInWorkspaceVenv(env: LaunchEnvironment): string | undefined {
  const p = pathFor(env.platform);
  const binDir = env.platform === 'win32' ? 'Scripts' : 'bin';
  for (const folder of env.workspaceFolders) {
    for (const venv of ['.venv', 'venv']) {
      for (const file of executableNames(SERVER_SCRIPT, env.platform)) {
        const candidate = p.join(folder, venv, binDir, file);
        if (env.isExecutable(candidate)) {
          return candidate;
        }
      }
    }
  }
  return undefined;
}

/** Resolve a configured command: an existing path, or a name found on PATH. */
function resolveConfigured(command: string, env: LaunchEnvironment): string | undefined {
  if (isPathLike(command, env.platform)) {
    return env.isExecutable(command) ? command : undefined;
  }
  return findOnPath(command, env);
}

/**
 * Decide how to start the server.
 *
 * Order: `vibethinker.server.path`, then `vibethinker.server.python` (`python -m lsp_server serve`), then
 * `vibethinker-lsp` on PATH, then a workspace `.venv`/`venv`. Throws ServerNotFoundError with the install
 * command when nothing fits.
 */
export function resolveServerCommand(settings: LaunchSettings, env: LaunchEnvironment): ServerCommand {
  const serverPath = settings.serverPath.trim();
  const python = settings.python.trim();
  if (serverPath) {
    const command = resolveConfigured(serverPath, env);
    if (!command) {
      throw new ServerNotFoundError(
        `vibethinker.server.path is "${serverPath}", which is not an executable file or a program on PATH; ` +
          `fix the setting or install the server with \`${INSTALL_COMMAND}\`.`,
        INSTALL_COMMAND,
      );
    }
    return { command, args: ['serve'], source: 'vibethinker.server.path' };
  }
  if (python) {
    const command = resolveConfigured(python, env);
    if (!command) {
      throw new ServerNotFoundError(
        `vibethinker.server.python is "${python}", which is not an executable file or a program on PATH; ` +
          'point it at a Python interpreter that has vibethinker-lsp installed.',
        `${python} -m ${INSTALL_COMMAND}`,
      );
    }
    return { command, args: ['-m', 'lsp_server', 'serve'], source: 'vibethinker.server.python' };
  }
  const onPath = findOnPath(SERVER_SCRIPT, env);
  if (onPath) {
    return { command: onPath, args: ['serve'], source: 'PATH' };
  }
  const inVenv = findInWorkspaceVenv(env);
  if (inVenv) {
    return { command: inVenv, args: ['serve'], source: 'workspace virtual environment' };
  }
  throw new ServerNotFoundError(
    `The VibeThinker language server (${SERVER_SCRIPT}) was not found on PATH or in a workspace .venv; ` +
      `install it with \`${INSTALL_COMMAND}\` or set vibethinker.server.path or vibethinker.server.python.`,
    INSTALL_COMMAND,
  );
}

/** The same command asking for the version instead of serving (`... --version`). */
export function versionCommand(server: ServerCommand): ServerCommand {
  const args = server.args.slice(0, -1).concat('--version');
  return { ...server, args };
}

/**
 * Run `<server> --version` in the folder the server will run in: resolves to the version line, or rejects with ServerNotFoundError when the
 * command fails (for example a Python interpreter without the `lsp_server` package).
 */
export function probeServer(server: ServerCommand, cwd?: string, timeoutMs = 20000): Promise<string> {
  const probe = versionCommand(server);
  return new Promise((resolve, reject) => {
    execFile(probe.command, probe.args, { timeout: timeoutMs, cwd }, (error, stdout, stderr) => {
      if (!error) {
        resolve(stdout.trim() || stderr.trim());
        return;
      }
      const python = server.source === 'vibethinker.server.python';
      const install = python ? `${server.command} -m ${INSTALL_COMMAND}` : INSTALL_COMMAND;
      const lastLine = stderr.trim().split('\n').pop() ?? '';
      const why = (lastLine.startsWith(`${probe.command}: `) ? lastLine.slice(probe.command.length + 2) : lastLine) || error.message;
      const what = python ? `${server.command} cannot run the server` : `\`${server.command}\` does not run`;
      reject(new ServerNotFoundError(`${what} (${why}); install it with \`${install}\`.`, install));
    });
  });
}
