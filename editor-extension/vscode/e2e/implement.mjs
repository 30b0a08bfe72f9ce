// Drive code-server in headless Chromium the way a user does.
//
// Usage: node e2e/implement.mjs '<json>' where json has
//   scenario    "implement" (default) or "missing"
//   url         code-server URL with ?folder=...
//   file        path of the source file on disk (its name is typed into Quick Open)
//   screenshot  where to write the PNG (implement: right after the quick fix's code is saved)
// and for "implement":
//   todo        text of the TODO line (the line that gets clicked)
//   action      prefix of the quick fix to choose, e.g. "Implement TODO"
//   expect      text that must appear in the editor once the edit lands
//   timeoutMs   how long to wait for the server's edit
//   commandFile optional second file with the same TODO: "VibeThinker: Run examples" (failures must reach
//               the Problems count), then "VibeThinker: Implement TODO at cursor" from the Command Palette
//   inline      optional {file, type, ghost, expect}: on a new line after the file's first line, type `type`,
//               wait for ghost text containing `ghost`, accept it with Tab, expect `expect` in the saved file
//   restart     optional true: "VibeThinker: Restart server", wait for the server, "VibeThinker: Show output"
//   settingsChange optional {file, values, notification}: set `values` in the user settings through
//               "Preferences: Open User Settings (JSON)" (`file` is that settings file) and wait for a
//               notification containing `notification` (the server's reaction)
//
// "implement": open the file, click the TODO line, press Ctrl+. (Quick Fix), choose the action, wait for the
// code, save with Ctrl+S, read the status bar. "missing": open the file and wait for the extension's
// notification that the server is missing.
// Prints one JSON line: {ok, status, editorText, notifications, steps, error?, ...}.
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.VIBETHINKER_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const steps = [];

/** Record a step (for the failure report) and log it to stderr. */
function step(message) {
  steps.push(message);
  console.error(`[e2e] ${message}`);
}

/** The text of the visible editor lines (Monaco renders spaces as no-break spaces). */
async function editorText(page) {
  const lines = await page.locator('.editor-instance .monaco-editor .view-lines .view-line').evaluateAll((nodes) =>
    nodes
      .map((node) => ({ top: parseFloat(node.style.top || '0'), text: node.textContent || '' }))
      .sort((a, b) => a.top - b.top)
      .map((line) => line.text),
  );
  return lines.join('\n').replace(/\u00a0/g, ' ');
}

/** The status-bar item of the extension. */
function statusItem(page) {
  return page.locator('.statusbar-item', { hasText: 'VibeThinker' }).first();
}

/** The status-bar item's text, or '' when it is not there. */
async function statusText(page) {
  return ((await statusItem(page).textContent().catch(() => '')) ?? '').trim();
}

/** The messages of the visible notification toasts. */
async function notifications(page) {
  return page.locator('.notification-toast .notification-list-item-message').allTextContents().catch(() => []);
}

/** Wait until fn() is truthy, polling; throws with `what` on timeout. */
async function waitFor(what, fn, timeoutMs, intervalMs = 250) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Load the workbench. */
async function openWorkbench(page, args) {
  step(`open ${args.url}`);
  await page.goto(args.url, { waitUntil: 'domcontentloaded' });
  await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
}

/** Open a file through Quick Open (Ctrl+P). */
async function openFile(page, file) {
  const name = file.split('/').pop();
  step(`quick open ${name}`);
  await waitFor('the explorer to list the file', () => page.locator('.explorer-folders-view', { hasText: name }).count(), 30000);
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget input').waitFor({ timeout: 10000 });
  await page.keyboard.type(name);
  await waitFor('the file in Quick Open', () => page.locator('.quick-input-list .monaco-list-row', { hasText: name }).count(), 15000);
  await page.keyboard.press('Enter');
  await page.locator('.tab.active', { hasText: name }).waitFor({ timeout: 15000 });
  await page.locator('.editor-instance .monaco-editor .view-line').first().waitFor({ timeout: 15000 });
}

/** Wait until the server reports a state; fail fast when the extension says it is missing or stopped. */
async function waitForServer(page) {
  step('wait for the language server (status bar)');
  await waitFor(
    'the VibeThinker status item to show the server state',
    async () => {
      const text = await statusText(page);
      if (/VibeThinker: (missing|stopped|error)/.test(text)) {
        throw new Error(`the extension reports "${text}"`);
      }
      return /VibeThinker: (idle|ready|loading|generating)/.test(text);
    },
    60000,
  );
}

/** Click the TODO line of the active editor (puts the cursor there); returns the line's locator. */
async function clickTodo(page, args) {
  step(`click the TODO line (${args.todo})`);
  const todoLine = page.locator('.editor-instance .monaco-editor .view-line', { hasText: args.todo }).first();
  await todoLine.click();
  await page.keyboard.press('End');
  return todoLine;
}

/** Run a command from the Command Palette (F1), by its title. */
async function runCommand(page, title) {
  step(`command palette: ${title}`);
  await page.keyboard.press('F1');
  await page.locator('.quick-input-widget input').waitFor({ timeout: 10000 });
  await page.keyboard.type(title);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  await row.waitFor({ timeout: 15000 });
  await page.keyboard.press('Enter');
}

/** The accessible label of the Problems item in the status bar (e.g. "Errors: 1, Warnings: 0"). */
async function problemsLabel(page) {
  return (await page.locator('[id="status.problems"]').first().getAttribute('aria-label').catch(() => '')) ?? '';
}

/** Wait for text in the editor, save with Ctrl+S and wait for it on disk. */
async function waitAndSave(page, file, expect, timeoutMs) {
  step(`wait for "${expect}" in the editor`);
  await waitFor(`"${expect}" in the editor`, async () => (await editorText(page)).includes(expect), timeoutMs);
  const text = await editorText(page);
  step('save (Ctrl+S)');
  await page.keyboard.press('Control+S');
  await waitFor(`the saved ${file} to contain the code`, () => readFileSync(file, 'utf8').includes(expect), 15000);
  return text;
}

/** Click the TODO line, open Quick Fix with Ctrl+. and choose the action; returns its title. */
async function chooseQuickFix(page, args) {
  const todoLine = await clickTodo(page, args);
  step('Quick Fix (Ctrl+.)');
  const choice = page.locator('.action-widget .monaco-list-row', { hasText: args.action }).first();
  await waitFor(
    `the "${args.action}" quick fix`,
    async () => {
      await page.keyboard.press('Control+.');
      try {
        await choice.waitFor({ timeout: 3000 });
        return true;
      } catch {
        await page.keyboard.press('Escape');
        await todoLine.click();
        await page.keyboard.press('End');
        return false;
      }
    },
    30000,
    0,
  );
  const title = ((await choice.textContent()) ?? '').trim();
  await page.screenshot({ path: args.screenshot.replace(/\.png$/, '-quickfix.png') });
  step(`choose "${title}"`);
  await choice.click();
  return title;
}

/** The implement scenario: Quick Fix on `file`; then, on `commandFile`, Run examples and Implement from the palette. */
async function implement(page, args, result) {
  await openWorkbench(page, args);
  await openFile(page, args.file);
  await waitForServer(page);
  result.quickFixTitle = await chooseQuickFix(page, args);
  result.editorText = await waitAndSave(page, args.file, args.expect, args.timeoutMs);
  result.status = await statusText(page);
  await page.mouse.move(0, 0);
  await page.screenshot({ path: args.screenshot });
  result.screenshotTaken = true;
  if (args.commandFile) {
    await openFile(page, args.commandFile);
    await clickTodo(page, args);
    const before = await problemsLabel(page);
    await runCommand(page, 'VibeThinker: Run examples');
    step('wait for the example results in Problems');
    result.problemsAfterRun = await waitFor(
      'the failed examples to show in the Problems count',
      async () => {
        const label = await problemsLabel(page);
        return label !== before && /[1-9]/.test(label) ? label : '';
      },
      60000,
    );
    await clickTodo(page, args);
    await runCommand(page, 'VibeThinker: Implement TODO at cursor');
    result.commandEditorText = await waitAndSave(page, args.commandFile, args.expect, args.timeoutMs);
    await page.screenshot({ path: args.screenshot.replace(/\.png$/, '-command.png') });
  }
  if (args.inline) {
    await inlineCompletion(page, args.inline, result);
    await page.screenshot({ path: args.screenshot.replace(/\.png$/, '-inline.png') });
  }
  result.notifications = await notifications(page);
  if (args.restart) {
    await runCommand(page, 'VibeThinker: Restart server');
    await waitForServer(page);
    await runCommand(page, 'VibeThinker: Show output');
    step('wait for the output panel');
    const panel = page.locator('.part.panel', { hasText: 'Restarting the language server' });
    await panel.waitFor({ timeout: 15000 });
    result.outputPanel = ((await panel.textContent()) ?? '').replace(/\u00a0/g, ' ');
  }
  if (args.settingsChange) {
    await changeSettings(page, args.settingsChange, result);
  }
}

/**
 * Change user settings the way a user does: "Preferences: Open User Settings (JSON)", replace the text, save;
 * then wait for the server's reaction (a notification). `change.file` is read for the current settings.
 */
async function changeSettings(page, change, result) {
  step(`change settings: ${JSON.stringify(change.values)}`);
  const settings = { ...JSON.parse(readFileSync(change.file, 'utf8')), ...change.values };
  await runCommand(page, 'Preferences: Open User Settings (JSON)');
  // the settings editor opens as a tab or, in newer versions, as a modal editor: click into its text
  const settingsEditor = page.locator('.monaco-modal-editor-block, .editor-group-container.active', { hasText: 'settings.json' });
  await settingsEditor.locator('.monaco-editor .view-line', { hasText: 'vibethinker' }).first().click();
  await page.keyboard.press('Control+A');
  // one line, so that auto-indent and auto-closing brackets leave the text as it is
  await page.keyboard.insertText(JSON.stringify(settings));
  await page.keyboard.press('Control+S');
  const [key, value] = Object.entries(change.values)[0];
  await waitFor('the settings file to be saved', () => readFileSync(change.file, 'utf8').includes(`"${key}":${JSON.stringify(value)}`), 15000);
  result.settingsNotification = await waitFor(
    `a notification mentioning "${change.notification}"`,
    async () => (await notifications(page)).find((message) => message.includes(change.notification)) ?? '',
    30000,
  );
}

/** Type at the end of a file's first line and accept the inline completion (ghost text) with Tab. */
async function inlineCompletion(page, inline, result) {
  await openFile(page, inline.file);
  step('type a new line and wait for ghost text');
  await page.locator('.editor-instance .monaco-editor .view-line').first().click();
  await page.keyboard.press('End');
  await page.keyboard.press('Enter');
  await page.keyboard.type(inline.type, { delay: 30 });
  const ghost = page.locator('.editor-instance .monaco-editor [class*="ghost-text"]');
  result.ghostText = await waitFor(
    `ghost text "${inline.ghost}"`,
    async () => {
      // Monaco may split the ghost text into several spans (one per token)
      const text = (await ghost.allTextContents()).join('').replace(/\u00a0/g, ' ');
      return text.includes(inline.ghost) ? text : '';
    },
    30000,
  );
  step('accept with Tab');
  await page.keyboard.press('Tab');
  result.inlineEditorText = await waitAndSave(page, inline.file, inline.expect, 15000);
}

/** The missing-server scenario. */
async function missing(page, args, result) {
  await openWorkbench(page, args);
  await openFile(page, args.file);
  step('wait for the missing-server notification');
  await waitFor('a notification with the install command', async () => (await notifications(page)).some((m) => /install/i.test(m)), 60000);
  result.notifications = await notifications(page);
  result.buttons = await page.locator('.notification-toast .monaco-button').allTextContents();
  result.status = await statusText(page);
}

/** Run one scenario; returns the result object. */
async function run(args) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const result = { ok: false, status: '', editorText: '', notifications: [], steps };
  try {
    await (args.scenario === 'missing' ? missing : implement)(page, args, result);
    if (!result.screenshotTaken) {
      await page.screenshot({ path: args.screenshot });
    }
    step(`screenshot ${args.screenshot}`);
    result.ok = true;
  } catch (error) {
    result.error = String(error && error.message ? error.message : error);
    result.editorText = await editorText(page).catch(() => '');
    result.status = await statusText(page);
    result.notifications = await notifications(page);
    await page.screenshot({ path: args.screenshot.replace(/\.png$/, '-failure.png') }).catch(() => undefined);
  } finally {
    await browser.close();
  }
  return result;
}

const result = await run(JSON.parse(process.argv[2]));
console.log(JSON.stringify(result));
process.exitCode = result.ok ? 0 : 1;
