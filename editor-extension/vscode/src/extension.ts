/**
 * The VS Code extension: starts `vibethinker-lsp serve`, mirrors the `vibethinker.*` settings to it, shows the
 * model state in the status bar and adds the Implement / Run examples / Restart / Show output commands.
 */
import * as vscode from 'vscode';
import {
  CodeAction,
  CodeActionRequest,
  CodeActionResolveRequest,
  Command,
  ConfigurationParams,
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
  WorkspaceEdit,
} from 'vscode-languageclient/node';
import { findImplementAction, nextStep } from './actions';
import {
  INSTALL_COMMAND,
  LaunchSettings,
  probeServer,
  processEnvironment,
  resolveServerCommand,
  ServerCommand,
  ServerNotFoundError,
} from './launch';
import { ConfigurationBlock, SECTION, serverSettingKeys, ServerSettings, toServerSettings } from './settings';
import { describeStatus, mergeStatus, STATUS_METHOD, StatusParams } from './status';

/** The languages the server's task extractor reads. */
export const LANGUAGES = [
  'python',
  'cpp',
  'c',
  'java',
  'rust',
  'go',
  'javascript',
  'javascriptreact',
  'typescript',
  'typescriptreact',
];

/** Server-side commands (workspace/executeCommand). */
const SERVER_RUN_EXAMPLES = 'vibethinker.runExamples';

let controller: Controller | undefined;

/** Activate: create the output channel and status bar item, register commands, start the server. */
export async function activate(context: vscode.ExtensionContext): Promise<void> {
  controller = new Controller(context);
  context.subscriptions.push(
    vscode.commands.registerCommand('vibethinker.implementAtCursor', () => controller?.implementAtCursor()),
    vscode.commands.registerCommand('vibethinker.runExamplesAtCursor', () => controller?.runExamplesAtCursor()),
    vscode.commands.registerCommand('vibethinker.restartServer', () => controller?.restart()),
    vscode.commands.registerCommand('vibethinker.showOutput', () => controller?.output.show(true)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(`${SECTION}.server`)) {
        void controller?.restart();
      }
    }),
  );
  await controller.start();
}

/** Deactivate: stop the server. */
export async function deactivate(): Promise<void> {
  await controller?.stop();
  controller = undefined;
}

/** Owns the language client, its output channel and the status-bar item. */
class Controller {
  readonly output: vscode.LogOutputChannel;
  private readonly statusItem: vscode.StatusBarItem;
  private readonly keys: string[];
  private client: LanguageClient | undefined;
  private status: StatusParams | undefined;
  private restarting: Promise<void> = Promise.resolve();

  /** Create the channel and status item; read the server setting keys from package.json. */
  constructor(private readonly context: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('VibeThinker', { log: true });
    this.statusItem = vscode.window.createStatusBarItem('vibethinker.status', vscode.StatusBarAlignment.Right, 100);
    this.statusItem.name = 'VibeThinker';
    this.statusItem.command = 'vibethinker.showOutput';
    const configuration = context.extension.packageJSON.contributes.configuration as ConfigurationBlock[];
    this.keys = serverSettingKeys(configuration);
    context.subscriptions.push(this.output, this.statusItem);
  }

  /** The server settings as the server wants them (nested, extension-only settings left out). */
  serverSettings(scope?: vscode.Uri): ServerSettings {
    const config = vscode.workspace.getConfiguration(SECTION, scope);
    return toServerSettings(this.keys, (key) => config.get(key));
  }

  /** Find the server and start the client; on failure show the install command. */
  async start(): Promise<void> {
    this.showStatus({ state: 'starting', detail: 'starting the language server' });
    let server: ServerCommand;
    try {
      server = resolveServerCommand(this.launchSettings(), processEnvironment(this.workspaceFolders()));
      const version = await probeServer(server, this.workspaceFolders()[0]);
      this.output.appendLine(`Starting ${version} (${server.source}): ${server.command} ${server.args.join(' ')}`);
    } catch (error) {
      this.reportMissing(error);
      return;
    }
    const client = new LanguageClient('vibethinker', 'VibeThinker', this.serverOptions(server), this.clientOptions());
    client.onNotification(STATUS_METHOD, (params: unknown) => this.showStatus(params));
    client.onDidChangeState((event) => {
      if (event.newState === State.Stopped) {
        this.showStatus({ state: 'stopped', detail: 'the language server is not running' });
      }
    });
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      this.output.appendLine(`The server failed to start: ${String(error)}`);
      this.showStatus({ state: 'error', detail: 'the language server failed to start; see the output' });
      void vscode.window.showErrorMessage(
        'VibeThinker: the language server failed to start; the VibeThinker output has the details.',
      );
    }
  }

  /** Stop the client if it runs. */
  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client?.needsStop()) {
      await client.stop();
    }
  }

  /** Stop and start again (new launch settings take effect); restarts asked for meanwhile run one after another. */
  restart(): Promise<void> {
    this.restarting = this.restarting.then(async () => {
      this.output.appendLine('Restarting the language server.');
      await this.stop();
      await this.start();
    });
    return this.restarting;
  }

  /** Ask the server for the Implement action on the cursor line and run it. */
  async implementAtCursor(): Promise<void> {
    const target = this.cursorTarget();
    if (!target) {
      return;
    }
    const { client, editor } = target;
    const line = editor.selection.active.line;
    try {
      const actions = await client.sendRequest(CodeActionRequest.type, {
        textDocument: { uri: client.code2ProtocolConverter.asUri(editor.document.uri) },
        range: { start: { line, character: 0 }, end: { line, character: 0 } },
        context: { diagnostics: [] },
      });
      const implement = findImplementAction(actions);
      if (!implement) {
        void vscode.window.showInformationMessage(
          `VibeThinker: no TODO on line ${line + 1}; put the cursor on a TODO/FIXME comment inside a function.`,
        );
        return;
      }
      await this.runAction(client, implement);
    } catch (error) {
      this.reportRequestError('Implement', error);
    }
  }

  /** Run the examples of the task on the cursor line (server command `vibethinker.runExamples`). */
  async runExamplesAtCursor(): Promise<void> {
    const target = this.cursorTarget();
    if (!target) {
      return;
    }
    const { client, editor } = target;
    const uri = client.code2ProtocolConverter.asUri(editor.document.uri);
    try {
      await client.sendRequest(ExecuteCommandRequest.type, {
        command: SERVER_RUN_EXAMPLES,
        arguments: [uri, editor.selection.active.line + 1],
      });
    } catch (error) {
      this.reportRequestError('Run examples', error);
    }
  }

  /** Run a code action: resolve it if its edit comes lazily, apply its edit, execute its command. */
  private async runAction(client: LanguageClient, action: Command | CodeAction): Promise<void> {
    let plan = nextStep(action);
    if (plan.step === 'resolve') {
      plan = nextStep(await client.sendRequest(CodeActionResolveRequest.type, action as CodeAction));
      if (plan.step === 'resolve') {
        return; // nothing to do: the server said why (for example, no candidate passed the examples)
      }
    }
    if (plan.step === 'execute') {
      await client.sendRequest(ExecuteCommandRequest.type, { command: plan.command, arguments: plan.arguments });
      return;
    }
    if (plan.edit) {
      const edit = await client.protocol2CodeConverter.asWorkspaceEdit(plan.edit as WorkspaceEdit);
      await vscode.workspace.applyEdit(edit);
    }
    if (plan.command) {
      await client.sendRequest(ExecuteCommandRequest.type, {
        command: plan.command.command,
        arguments: plan.command.arguments,
      });
    }
  }

  /** The running client and the active editor, or undefined after telling the user what is missing. */
  private cursorTarget(): { client: LanguageClient; editor: vscode.TextEditor } | undefined {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('VibeThinker: open a source file and put the cursor on a TODO first.');
      return undefined;
    }
    if (!LANGUAGES.includes(editor.document.languageId)) {
      void vscode.window.showInformationMessage(
        `VibeThinker: ${editor.document.languageId} files are not supported (Python, C/C++, Java, Rust, Go, JS/TS are).`,
      );
      return undefined;
    }
    if (!this.client?.isRunning()) {
      void vscode.window.showWarningMessage(
        'VibeThinker: the language server is not running; run "VibeThinker: Restart server" or see the output.',
      );
      return undefined;
    }
    return { client: this.client, editor };
  }

  /** Log a failed request and show its one-line message. */
  private reportRequestError(what: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.output.appendLine(`${what} failed: ${message}`);
    void vscode.window.showErrorMessage(`VibeThinker: ${what} failed: ${message}`);
  }

  /** The `vibethinker.server.*` settings. */
  private launchSettings(): LaunchSettings {
    const config = vscode.workspace.getConfiguration(SECTION);
    return { serverPath: config.get<string>('server.path', ''), python: config.get<string>('server.python', '') };
  }

  /** File-system paths of the open workspace folders. */
  private workspaceFolders(): string[] {
    return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
  }

  /** Run the resolved command over stdio, in the first workspace folder when there is one. */
  private serverOptions(server: ServerCommand): ServerOptions {
    const cwd = this.workspaceFolders()[0];
    return { command: server.command, args: server.args, options: cwd ? { cwd } : {} };
  }

  /** Documents, initialization options and the configuration middleware. */
  private clientOptions(): LanguageClientOptions {
    const documentSelector = LANGUAGES.flatMap((language) => [
      { scheme: 'file', language },
      { scheme: 'untitled', language },
    ]);
    return {
      documentSelector,
      outputChannel: this.output,
      initializationOptions: () => this.serverSettings(),
      synchronize: { configurationSection: SECTION },
      middleware: {
        workspace: {
          configuration: async (params: ConfigurationParams, token, next) => {
            const answers = await next(params, token);
            if (!Array.isArray(answers)) {
              return answers;
            }
            return params.items.map((item, index) =>
              item.section === SECTION ? this.serverSettings(item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined) : answers[index],
            );
          },
          didChangeConfiguration: async () => {
            await this.client?.sendNotification(DidChangeConfigurationNotification.type, {
              settings: { [SECTION]: this.serverSettings() },
            });
          },
        },
      },
    };
  }

  /** Update the status-bar item from a `vibethinker/status` notification or the extension's own state. */
  private showStatus(update: unknown): void {
    this.status = mergeStatus(this.status, update);
    const view = describeStatus(this.status);
    this.statusItem.text = view.text;
    this.statusItem.tooltip = view.tooltip;
    this.statusItem.backgroundColor =
      view.severity === 'normal' ? undefined : new vscode.ThemeColor(`statusBarItem.${view.severity}Background`);
    this.statusItem.show();
  }

  /** Tell the user the server is missing, with the install command one click away. */
  private reportMissing(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    const install = error instanceof ServerNotFoundError ? error.installCommand : INSTALL_COMMAND;
    this.output.appendLine(message);
    this.showStatus({ state: 'missing', detail: 'language server not found' });
    const actions = ['Install in terminal', 'Copy install command', 'Open settings'];
    void vscode.window.showErrorMessage(`VibeThinker: ${message}`, ...actions).then((choice) => {
      if (choice === 'Install in terminal') {
        const terminal = vscode.window.createTerminal('VibeThinker install');
        terminal.show();
        terminal.sendText(install);
      } else if (choice === 'Copy install command') {
        void vscode.env.clipboard.writeText(install);
      } else if (choice === 'Open settings') {
        void vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.server`);
      }
    });
  }
}
