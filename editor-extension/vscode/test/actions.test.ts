import assert from 'node:assert/strict';
import { test } from 'node:test';
import { actionName, findImplementAction, isCommand, nextStep } from '../src/actions';

const UNRESOLVED = {
  title: 'Implement TODO: hash map, O(n)',
  kind: 'quickfix',
  data: { uri: 'file:///a.py', line: 9, action: 'implement' },
};

test('an unresolved code action (no edit, no command) is resolved first', () => {
  assert.equal(isCommand(UNRESOLVED), false);
  assert.deepEqual(nextStep(UNRESOLVED), { step: 'resolve' });
});

test('a resolved code action applies its edit', () => {
  const edit = { documentChanges: [] };
  assert.deepEqual(nextStep({ ...UNRESOLVED, edit }), { step: 'apply', edit, command: undefined });
});

test('a code action that carries a command (clients without lazy edits) runs it after any edit', () => {
  const command = { title: 't', command: 'vibethinker.implement', arguments: ['file:///a.py', 9] };
  assert.deepEqual(nextStep({ ...UNRESOLVED, command }), { step: 'apply', edit: undefined, command });
});

test('a bare Command is executed with its arguments', () => {
  const command = { title: 'Run examples of f (2)', command: 'vibethinker.runExamples', arguments: ['file:///a.py', 3] };
  assert.equal(isCommand(command), true);
  assert.deepEqual(nextStep(command), { step: 'execute', command: 'vibethinker.runExamples', arguments: ['file:///a.py', 3] });
  assert.deepEqual(nextStep({ title: 'x', command: 'c' }), { step: 'execute', command: 'c', arguments: [] });
});

test('the Implement action is picked out of the list, whatever its position', () => {
  const run = { title: 'Run examples of two_sum (2)', command: 'vibethinker.runExamples' };
  assert.equal(findImplementAction([run, UNRESOLVED]), UNRESOLVED);
  assert.equal(findImplementAction([run]), undefined);
  assert.equal(findImplementAction(null), undefined);
});

test('actions are chosen by data.action, never by their title', () => {
  const renamed = { ...UNRESOLVED, title: 'Write the code for this TODO' };
  const lookalike = { title: 'Implement TODO: but not really', kind: 'quickfix', data: { action: 'optimize' } };
  assert.equal(actionName(renamed), 'implement');
  assert.equal(findImplementAction([lookalike, renamed]), renamed);
  assert.equal(findImplementAction([lookalike, { title: 'Implement X', kind: 'quickfix' }]), undefined);
  const command = { title: 'anything', command: 'vibethinker.implement', arguments: ['file:///a.py', 9] };
  assert.equal(findImplementAction([command]), command);
});
