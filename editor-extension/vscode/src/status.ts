/**
 * The status-bar view of the server's `vibethinker/status` notifications.
 *
 * Free of the `vscode` import so it runs in plain Node for unit tests.
 */

/** The custom notification's method name. */
export const STATUS_METHOD = 'vibethinker/status';

/** Model states the server reports, plus the extension's own `starting`, `stopped` and `missing`. */
export type ModelState = 'idle' | 'loading' | 'ready' | 'generating' | 'error' | 'starting' | 'stopped' | 'missing';

/** The params of `vibethinker/status` (every field but `state` optional on the wire). */
export interface StatusParams {
  model?: string;
  /** The model's short name, e.g. `VibeThinker-3B` (a folder's last part for unknown models). */
  modelShort?: string;
  /** Which sampling applies, e.g. `VibeThinker-3B defaults: temperature 1.0, ...`. */
  sampling?: string;
  state: ModelState;
  detail?: string;
  sandbox?: string;
  tokensPerSecond?: number;
}

/** What the status-bar item shows. */
export interface StatusView {
  text: string;
  tooltip: string;
  /** `error` and `warning` pick the status bar's error/warning background. */
  severity: 'normal' | 'warning' | 'error';
}

const ICONS: Record<ModelState, string> = {
  idle: '$(circle-outline)',
  loading: '$(sync~spin)',
  ready: '$(check)',
  generating: '$(loading~spin)',
  error: '$(error)',
  starting: '$(sync~spin)',
  stopped: '$(debug-stop)',
  missing: '$(warning)',
};

/** Merge a notification into the previous status: the sandbox level and model name persist until replaced. */
export function mergeStatus(previous: StatusParams | undefined, update: unknown): StatusParams {
  const raw = (typeof update === 'object' && update !== null ? update : {}) as Record<string, unknown>;
  const state = typeof raw.state === 'string' && raw.state in ICONS ? (raw.state as ModelState) : 'idle';
  const text = (key: string): string | undefined => (typeof raw[key] === 'string' ? (raw[key] as string) : undefined);
  const rate = typeof raw.tokensPerSecond === 'number' && Number.isFinite(raw.tokensPerSecond) ? raw.tokensPerSecond : undefined;
  return {
    model: text('model') ?? previous?.model,
    modelShort: text('modelShort') ?? previous?.modelShort,
    sampling: text('sampling') ?? previous?.sampling,
    state,
    detail: text('detail') ?? '',
    sandbox: text('sandbox') ?? previous?.sandbox,
    tokensPerSecond: state === 'generating' ? rate : undefined,
  };
}

/** Shorten a one-line detail for the status bar. */
function short(detail: string, limit = 40): string {
  const line = detail.split('\n')[0].trim();
  return line.length > limit ? `${line.slice(0, limit - 1)}…` : line;
}

/** The status-bar text, tooltip and severity for a status. */
export function describeStatus(status: StatusParams): StatusView {
  const parts = [`${ICONS[status.state]} VibeThinker: ${status.state}`];
  if (status.state === 'loading' && status.detail) {
    parts.push(short(status.detail));
  }
  if (status.state === 'generating') {
    if (status.tokensPerSecond !== undefined) {
      parts.push(`${status.tokensPerSecond.toFixed(1)} tok/s`);
    } else if (status.detail) {
      parts.push(short(status.detail));
    }
  }
  if (status.modelShort && (status.state === 'idle' || status.state === 'ready')) {
    parts.push(status.modelShort);
  }
  if (status.sandbox) {
    parts.push(`sandbox: ${status.sandbox}`);
  }
  const model = status.modelShort && status.modelShort !== status.model ? `${status.modelShort} (${status.model})` : status.model;
  const tooltip = [
    `Model: ${model ?? 'not loaded yet'}`,
    ...(status.sampling ? [`Sampling: ${status.sampling}`] : []),
    `State: ${status.state}${status.detail ? ` (${status.detail})` : ''}`,
    `Sandbox: ${status.sandbox ?? 'not checked yet'}`,
    'Click to show the VibeThinker output.',
  ].join('\n');
  const severity = status.state === 'error' ? 'error' : status.state === 'missing' ? 'warning' : 'normal';
  return { text: parts.join(' · '), tooltip, severity };
}
