/**
 * Choosing and running the server's code actions from the extension's commands.
 *
 * Free of the `vscode` import so it runs in plain Node for unit tests.
 */

/** The LSP shapes this module reads (a Command, or a CodeAction that may still need resolving). */
export interface LspCommand {
  title: string;
  command: string;
  arguments?: unknown[];
}
export interface LspCodeAction {
  title: string;
  kind?: string;
  edit?: unknown;
  command?: LspCommand;
  data?: unknown;
}

/** What to do with an action: execute its command, resolve it first, or apply what it already has. */
export type ActionStep =
  | { step: 'execute'; command: string; arguments: unknown[] }
  | { step: 'resolve' }
  | { step: 'apply'; edit?: unknown; command?: LspCommand };

/** Whether a value is a bare LSP Command (its `command` is the command's name). */
export function isCommand(action: LspCommand | LspCodeAction): action is LspCommand {
  return typeof (action as LspCommand).command === 'string';
}

/** The server's name for the Implement action (`data.action`) and the command that runs it. */
export const IMPLEMENT_ACTION = 'implement';
export const IMPLEMENT_COMMAND = 'vibethinker.implement';

/**
 * Which of the server's actions this is: a code action's `data.action`, or for a bare Command the action its
 * command runs. Titles are for people (and change with the task's text), so they are never read.
 */
export function actionName(action: LspCommand | LspCodeAction): string | undefined {
  if (isCommand(action)) {
    return action.command === IMPLEMENT_COMMAND ? IMPLEMENT_ACTION : undefined;
  }
  const data = action.data;
  if (typeof data === 'object' && data !== null && typeof (data as { action?: unknown }).action === 'string') {
    return (data as { action: string }).action;
  }
  return undefined;
}

/** The first Implement action of a code action list (chosen by `data.action`), if any. */
export function findImplementAction<T extends LspCommand | LspCodeAction>(actions: T[] | null | undefined): T | undefined {
  return (actions ?? []).find((action) => actionName(action) === IMPLEMENT_ACTION);
}

/**
 * The next step for an action. A bare Command is executed; a CodeAction with neither edit nor command is
 * resolved first (the server does the work on codeAction/resolve); otherwise its edit is applied and then its
 * command executed.
 */
export function nextStep(action: LspCommand | LspCodeAction): ActionStep {
  if (isCommand(action)) {
    return { step: 'execute', command: action.command, arguments: action.arguments ?? [] };
  }
  if (action.edit === undefined && action.command === undefined) {
    return { step: 'resolve' };
  }
  return { step: 'apply', edit: action.edit, command: action.command };
}
