// Drives Rocket.Chat's livechat widget (@rocket.chat/livechat, as published
// on npm) in Debian's chromium against a running Switchboard, as a visitor
// would: the registration form lists the departments, the visitor registers
// choosing one, and the widget shows either the agent serving the chat or
// that the visitor waits in the queue.
//
//   node journey.mjs <json options>
//
// Options: widgetPort (where to serve the widget), serverUrl (Switchboard),
// department (the name to choose), expect ("agent" or "waiting"),
// agentName (with expect=agent), screenshots (a path prefix, optional).
// With expect=waiting and live=true the widget must show that it waits
// without a reload (its live connection, /websocket, tells it); with
// closeUrl and closeHeaders too, the journey then POSTs closeUrl (closing
// another chat, typically through another instance) and the widget must
// show agentName within agentWithinMs, again without a reload.
// Prints one JSON line with what it saw; exits 0 when the journey passed.

import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, extname, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const options = JSON.parse(process.argv[2]);
const here = dirname(fileURLToPath(import.meta.url));
const build = join(here, 'node_modules', '@rocket.chat', 'livechat', 'build');
const types = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html', '.png': 'image/png', '.map': 'application/json' };

// The widget as Rocket.Chat serves it: index.html at /livechat, its files
// under /livechat/.
function serveWidget(port) {
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const name = path === '/livechat' || path === '/livechat/' ? 'index.html' : path.replace(/^\/livechat\//, '');
    const file = join(build, name);
    if (!file.startsWith(build) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': types[extname(file)] || 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

const seen = { departments: [], failed: [], calls: [], loads: 0, socket: { urls: [], ready: [] } };

// The widget's live connection: which subscriptions the server made ready.
function watchSocket(page) {
  const subs = {};
  page.on('websocket', (ws) => {
    seen.socket.urls.push(ws.url());
    ws.on('framesent', (f) => {
      try {
        const m = JSON.parse(f.payload);
        if (m.msg === 'sub') subs[m.id] = m.name;
      } catch {}
    });
    ws.on('framereceived', (f) => {
      try {
        const m = JSON.parse(f.payload);
        if (m.msg === 'ready') for (const id of m.subs) seen.socket.ready.push(subs[id]);
        // A nosub answering an unsub is normal; one with an error is a refusal.
        if (m.msg === 'nosub' && m.error) seen.failed.push(`nosub ${subs[m.id]}: ${JSON.stringify(m.error)}`);
      } catch {}
    });
  });
}

async function until(test, timeout) {
  const deadline = Date.now() + timeout;
  while (!test()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function main() {
  const server = await serveWidget(options.widgetPort);
  const profile = mkdtempSync(join(tmpdir(), 'switchboard-widget-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 420, height: 640 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.on('response', (r) => {
      const url = r.url();
      if (url.startsWith(options.serverUrl)) {
        const call = `${r.request().method()} ${new URL(url).pathname} ${r.status()}`;
        seen.calls.push(call);
        if (r.status() >= 400) seen.failed.push(call);
      }
    });
    page.on('pageerror', (e) => seen.failed.push(`page error: ${e.message}`));
    page.on('load', () => { seen.loads += 1; });
    watchSocket(page);
    const widget = `http://127.0.0.1:${options.widgetPort}/livechat?serverUrl=${encodeURIComponent(options.serverUrl)}`;
    await page.goto(widget);

    // The widget starts minimized: the visitor opens it.
    const opener = page.locator('[class*="chat-button"]').first();
    await opener.waitFor({ timeout: 30000 });
    await opener.click();

    // The registration form lists the departments shown on registration.
    const select = page.locator('select[name="department"]');
    // Styled by the widget: the native select is present but not visible.
    await select.waitFor({ state: 'attached', timeout: 30000 });
    seen.departments = (await select.locator('option').allTextContents()).filter((t) => t && !/choose/i.test(t));
    if (options.screenshots) await page.screenshot({ path: `${options.screenshots}-form.png` });

    await page.fill('input[name="name"]', options.visitorName || 'Widget Visitor');
    await page.fill('input[name="email"]', options.visitorEmail || 'visitor@example.com');
    await select.selectOption({ label: options.department }, { force: true });
    await page.locator('button[type="submit"], form button').last().click();
    seen.token = await page.evaluate(() => {
      for (const k of Object.keys(localStorage)) {
        const v = localStorage.getItem(k);
        const m = v && v.match(/"token":"([^"]+)"/);
        if (m) return m[1];
      }
      return null;
    });

    // The chat starts with the visitor's first message: the widget asks
    // for its room, which Switchboard routes.
    const composer = page.locator('textarea, [contenteditable="true"]').first();
    await composer.waitFor({ timeout: 30000 });
    await composer.click();
    await page.keyboard.type(options.message || 'Hello, I need help');
    await page.keyboard.press('Enter');

    if (options.expect === 'agent') {
      await page.getByText(options.agentName, { exact: false }).first().waitFor({ timeout: 30000 });
      seen.agentShown = options.agentName;
      if (options.screenshots) await page.screenshot({ path: `${options.screenshots}-agent.png` });
    } else if (options.live) {
      // Told over its live connection, without a reload.
      await page.getByText(/Waiting queue|Your spot is/).first().waitFor({ timeout: 30000 });
      seen.waitingShown = true;
      if (options.screenshots) await page.screenshot({ path: `${options.screenshots}-waiting.png` });
      if (options.closeUrl) {
        await until(() => seen.socket.ready.includes('stream-livechat-room'), 30000);
        const closed = await fetch(options.closeUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...options.closeHeaders }, body: '{}' });
        seen.closeStatus = closed.status;
        const closedAt = Date.now();
        await page.getByText(options.agentName, { exact: false }).first().waitFor({ timeout: options.agentWithinMs });
        seen.agentAfterMs = Date.now() - closedAt;
        seen.agentShown = options.agentName;
        if (options.screenshots) await page.screenshot({ path: `${options.screenshots}-agent.png` });
      }
    } else {
      // Without its live connection the widget learns its place in the
      // queue from its configuration: a reload, as a returning visitor
      // does, shows it.
      await page.waitForTimeout(1500);
      await page.reload();
      const reopen = page.locator('[class*="chat-button"]').first();
      await reopen.waitFor({ timeout: 30000 });
      if (!(await page.locator('textarea, [contenteditable="true"]').first().isVisible())) await reopen.click();
      await page.getByText(/Waiting queue|Your spot is/).first().waitFor({ timeout: 30000 });
      seen.waitingShown = true;
      if (options.screenshots) await page.screenshot({ path: `${options.screenshots}-waiting.png` });
    }
    seen.ok = true;
  } finally {
    await context.close();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

main()
  .then(() => {
    console.log(JSON.stringify(seen));
    process.exit(0);
  })
  .catch((e) => {
    seen.ok = false;
    seen.error = String(e && e.message ? e.message : e).slice(0, 2000);
    console.log(JSON.stringify(seen));
    process.exit(1);
  });
