import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeStatus, mergeStatus } from '../src/status';

test('loading shows its progress detail', () => {
  const view = describeStatus(mergeStatus(undefined, { model: 'm', state: 'loading', detail: 'weights 40%' }));
  assert.match(view.text, /VibeThinker: loading · weights 40%/);
  assert.equal(view.severity, 'normal');
});

test('generating shows tokens per second', () => {
  const view = describeStatus(mergeStatus(undefined, { model: 'm', state: 'generating', detail: '', tokensPerSecond: 42.25 }));
  assert.match(view.text, /generating · 42\.3 tok\/s/);
});

test('the sandbox level persists across later notifications that omit it', () => {
  const first = mergeStatus(undefined, { model: 'm', state: 'idle', sandbox: 'strong' });
  const second = mergeStatus(first, { model: 'm', state: 'ready', detail: 'loaded' });
  const view = describeStatus(second);
  assert.match(view.text, /VibeThinker: ready · sandbox: strong/);
  assert.match(view.tooltip, /Model: m/);
});

test('errors use the error background and keep the detail in the tooltip', () => {
  const view = describeStatus(mergeStatus(undefined, { model: 'm', state: 'error', detail: 'CUDA out of memory' }));
  assert.equal(view.severity, 'error');
  assert.match(view.tooltip, /CUDA out of memory/);
});

test('malformed notifications fall back to idle instead of throwing', () => {
  const view = describeStatus(mergeStatus(undefined, { state: 'exploded', tokensPerSecond: 'fast' }));
  assert.match(view.text, /VibeThinker: idle/);
  assert.doesNotMatch(view.text, /tok\/s/);
  assert.match(describeStatus(mergeStatus(undefined, null)).text, /idle/);
});

test('tokens per second are dropped once generation ends', () => {
  const generating = mergeStatus(undefined, { state: 'generating', tokensPerSecond: 10 });
  assert.equal(mergeStatus(generating, { state: 'ready' }).tokensPerSecond, undefined);
});

test('generating without a numeric rate shows the server detail (which carries the speed)', () => {
  const view = describeStatus(mergeStatus(undefined, { model: 'm', state: 'generating', detail: '37 tokens/s' }));
  assert.match(view.text, /generating · 37 tokens\/s/);
});

test('the model short name shows when idle or ready, and the tooltip says which sampling defaults apply', () => {
  const first = mergeStatus(undefined, {
    model: 'WeiboAI/VibeThinker-3B',
    modelShort: 'VibeThinker-3B',
    sampling: 'VibeThinker-3B defaults: temperature 1.0, top_p 0.95, top_k off, thinking budget 4096',
    state: 'idle',
    sandbox: 'strong',
  });
  const ready = describeStatus(mergeStatus(first, { model: 'WeiboAI/VibeThinker-3B', state: 'ready', detail: '' }));
  assert.match(ready.text, /VibeThinker: ready · VibeThinker-3B · sandbox: strong/);
  assert.match(ready.tooltip, /Model: VibeThinker-3B \(WeiboAI\/VibeThinker-3B\)/);
  assert.match(ready.tooltip, /Sampling: VibeThinker-3B defaults: temperature 1\.0/);
  const generating = describeStatus(mergeStatus(first, { state: 'generating', tokensPerSecond: 5 }));
  assert.doesNotMatch(generating.text, /VibeThinker-3B/);
});
