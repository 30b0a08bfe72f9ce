// Drive code-server in headless Chromium the way a user does: open a file, click the TODO line, press
// Ctrl+. (Quick Fix), choose "Implement TODO: ...", wait for the code, save, take a screenshot.
//
// Usage: node e2e/implement.mjs '<json>' where json has
//   url         code-server URL with ?folder=...
//   file        the file's name (typed into Quick Open) and path on disk
//   todo        text of the TODO line (the line that gets clicked)
//   action      prefix of the quick fix to choose, e.g. "Implement TODO"
//   expect      text that must appear in the editor once the edit lands
//   screenshot  where to write the PNG
//   timeoutMs   how long to wait for the server's edit
// Prints one JSON line: {ok, status, editorText, steps, error?}.
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

/** Run the whole scenario; returns the result object. */
async function run(args) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const result = { ok: false, status: '', editorText: '', steps };
  try {
    step(`open ${args.url}`);
    await page.goto(args.url, { waitUntil: 'domcontentloaded' });
    await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });

    step(`quick open ${args.file}`);
    const name = args.file.split('/').pop();
    await waitFor('the explorer to list the file', () => page.locator('.explorer-folders-view', { hasText: name }).count(), 30000);
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').waitFor({ timeout: 10000 });
    await page.keyboard.type(name);
    await waitFor('the file in Quick Open', () => page.locator('.quick-input-list .monaco-list-row', { hasText: name }).count(), 15000);
    await page.keyboard.press('Enter');
    await page.locator('.tab.active', { hasText: name }).waitFor({ timeout: 15000 });
    await page.locator('.editor-instance .monaco-editor').first().waitFor({ timeout: 15000 });

    step('wait for the language server (status bar)');
    await waitFor(
      'the VibeThinker status item to show the server state',
      async () => {
        const text = (await statusItem(page).textContent()) ?? '';
        if (/VibeThinker: (missing|stopped|error)/.test(text)) {
          throw new Error(`the extension reports "${text.trim()}"`);
        }
        return /VibeThinker: (idle|ready|loading|generating)/.test(text);
      },
      60000,
    );

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
    result.quickFixTitle = ((await choice.textContent()) ?? '').trim();
    await page.screenshot({ path: args.screenshot.replace(/\.png$/, '-quickfix.png') });
    step(`choose "${result.quickFixTitle}"`);
    await choice.click();

    step('wait for the verified code in the editor');
    await waitFor(`"${args.expect}" in the editor`, async () => (await editorText(page)).includes(args.expect), args.timeoutMs);
    result.editorText = await editorText(page);

    step('save (Ctrl+S)');
    await page.locator('.editor-instance .monaco-editor .view-line').first().click();
    await page.keyboard.press('Control+S');
    await waitFor('the saved file to contain the code', () => readFileSync(args.file, 'utf8').includes(args.expect), 15000);
    await page.locator('.tab.active.dirty').waitFor({ state: 'detached', timeout: 10000 }).catch(() => undefined);

    result.status = ((await statusItem(page).textContent()) ?? '').trim();
    result.statusTooltip = (await statusItem(page).getAttribute('aria-label')) ?? '';
    await page.mouse.move(0, 0);
    await page.screenshot({ path: args.screenshot });
    step(`screenshot ${args.screenshot}`);
    result.ok = true;
  } catch (error) {
    result.error = String(error && error.message ? error.message : error);
    result.editorText = await editorText(page).catch(() => '');
    result.status = ((await statusItem(page).textContent().catch(() => '')) ?? '').trim();
    result.notifications = await page.locator('.notification-toast .notification-list-item-message').allTextContents().catch(() => []);
    await page.screenshot({ path: args.screenshot.replace(/\.png$/, '-failure.png') }).catch(() => undefined);
  } finally {
    await browser.close();
  }
  return result;
}

const result = await run(JSON.parse(process.argv[2]));
console.log(JSON.stringify(result));
process.exitCode = result.ok ? 0 : 1;
