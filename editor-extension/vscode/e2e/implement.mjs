// Drive code-server in headless Chromium the way a user does.
//
// Usage: node e2e/implement.mjs '<json>' where json has
//   scenario    "implement" (default) or "missing"
//   url         code-server URL with ?folder=...
//   file        path of the source file on disk (its name is typed into Quick Open)
//   screenshot  where to write the final PNG
// and for "implement":
//   todo        text of the TODO line (the line that gets clicked)
//   action      prefix of the quick fix to choose, e.g. "Implement TODO"
//   expect      text that must appear in the editor once the edit lands
//   timeoutMs   how long to wait for the server's edit
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

/** Load the workbench and open the file through Quick Open (Ctrl+P). */
async function openFile(page, args) {
  step(`open ${args.url}`);
  await page.goto(args.url, { waitUntil: 'domcontentloaded' });
  await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
  const name = args.file.split('/').pop();
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

/** Click the TODO line, open Quick Fix with Ctrl+. and choose the action; returns its title. */
async function chooseQuickFix(page, args) {
  step(`click the TODO line (${args.todo})`);
  const todoLine = page.locator('.editor-instance .monaco-editor .view-line', { hasText: args.todo }).first();
  await todoLine.click();
  await page.keyboard.press('End');
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

/** The implement scenario. */
async function implement(page, args, result) {
  await openFile(page, args);
  await waitForServer(page);
  result.quickFixTitle = await chooseQuickFix(page, args);
  step('wait for the verified code in the editor');
  await waitFor(`"${args.expect}" in the editor`, async () => (await editorText(page)).includes(args.expect), args.timeoutMs);
  result.editorText = await editorText(page);
  step('save (Ctrl+S)');
  await page.keyboard.press('Control+S');
  await waitFor('the saved file to contain the code', () => readFileSync(args.file, 'utf8').includes(args.expect), 15000);
  result.status = await statusText(page);
  await page.mouse.move(0, 0);
}

/** The missing-server scenario. */
async function missing(page, args, result) {
  await openFile(page, args);
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
    await page.screenshot({ path: args.screenshot });
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
