// A new build reaches phones that have the app: the page left open on the old build keeps
// working (its screens not yet loaded come from the old build's cache, which the server no
// longer has), the next load is the new build, offline too, and a build's cache is deleted
// once two newer ones have come. Records written before an update are still there after it.
//
// This scenario runs a server of its own on a copy of the built app, so that it can deploy
// builds into it: a "build" here is the built app under a new hash and cache version, made
// the way `cargo xtask build-client` names them.
const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const { spawn } = require('child_process');
const { test, expect } = require('@playwright/test');
const h = require('./helpers');

const DIST = path.join(__dirname, '..', '..', 'client', 'dist');

/** Starts the server binary `cargo xtask test` names in GATEHOUSE_SERVER on these folders. */
async function startServer(staticDir, dataDir) {
  const binary = process.env.GATEHOUSE_SERVER;
  if (!binary) throw new Error('GATEHOUSE_SERVER must name the server binary (cargo xtask test sets it)');
  const child = spawn(binary, ['--demo', '--listen', '127.0.0.1:0', '--static-dir', staticDir, '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (chunk) => { log = (log + chunk).slice(-4000); });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const listening = out.match(/Gatehouse is listening on (\S+)/);
      if (listening) resolve(listening[1]);
    });
    child.on('exit', (code) => reject(new Error(`the server exited (${code}) before listening:\n${log}`)));
  });
  return { child, url };
}

/** The build the folder serves: its code's folder hash (from the page) and cache version. */
function servedBuild(staticDir) {
  const page = fs.readFileSync(path.join(staticDir, 'index.html'), 'utf8');
  const worker = fs.readFileSync(path.join(staticDir, 'sw.js'), 'utf8');
  return {
    hash: page.match(/\/app\/([0-9a-f]{16})\//)[1],
    version: worker.match(/const CACHE = 'gatehouse-([0-9a-f]{16})'/)[1],
  };
}

/**
 * Deploys a new build as an operator would: the new code's folder in, the old one out (the
 * server keeps one build), the page and the worker naming the new ones, each precompressed.
 */
function deploy(staticDir, next) {
  const current = servedBuild(staticDir);
  const app = path.join(staticDir, 'app');
  fs.cpSync(path.join(app, current.hash), path.join(app, next.hash), { recursive: true });
  fs.rmSync(path.join(app, current.hash), { recursive: true });
  for (const name of ['index.html', 'sw.js']) {
    const file = path.join(staticDir, name);
    const text = fs.readFileSync(file, 'utf8').replaceAll(current.hash, next.hash).replaceAll(current.version, next.version);
    fs.writeFileSync(file, text);
    fs.writeFileSync(`${file}.gz`, zlib.gzipSync(text));
    fs.writeFileSync(`${file}.br`, zlib.brotliCompressSync(text));
  }
}

/** The build folder the page's code came from. */
const pageBuild = (page) => page.evaluate(() => document.querySelector('script[type="module"]').getAttribute('src').split('/')[2]);
const cacheNames = (page) => page.evaluate(() => caches.keys());

/**
 * Asks the browser to look for a new worker, as it does on its own at each load, and waits
 * until the new one is activated: its activate step (which deletes old caches) has finished.
 * The page changes controller earlier, when activation starts.
 */
async function checkForUpdate(page) {
  await page.evaluate(async () => {
    const registration = await navigator.serviceWorker.getRegistration();
    const before = registration.active;
    await registration.update();
    const worker = registration.installing || registration.waiting || registration.active;
    if (worker === before) throw new Error('the browser found no new worker');
    if (worker.state !== 'activated') {
      await new Promise((resolve) => worker.addEventListener('statechange', () => worker.state === 'activated' && resolve()));
    }
    if (navigator.serviceWorker.controller !== worker) throw new Error('the new worker does not control the page');
  });
}

test('a_new_build_reaches_the_phone_without_breaking_the_open_page', async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-update-'));
  const staticDir = path.join(work, 'static');
  fs.cpSync(DIST, staticDir, { recursive: true });
  const server = await startServer(staticDir, path.join(work, 'data'));
  const phone = await h.launchPhone(path.join(work, 'profile'), h.SMALL_PHONE, server.url);
  try {
    const first = servedBuild(staticDir);
    const second = { hash: 'b2b2b2b2b2b2b2b2', version: 'c2c2c2c2c2c2c2c2' };
    const third = { hash: 'b3b3b3b3b3b3b3b3', version: 'c3c3c3c3c3c3c3c3' };

    const page = phone.pages()[0] || (await phone.newPage());
    await h.signIn(page, h.GUARD);
    await h.waitForServiceWorker(page);
    await h.startRound(page, '更新前的巡逻');
    await h.addVisit(page, '东门', '新版本发布前写的');
    await expect(page.getByTestId('visit-item')).toHaveCount(1);
    expect(await pageBuild(page)).toBe(first.hash);
    expect(await cacheNames(page)).toEqual([`gatehouse-${first.version}`]);

    // The second build is deployed; the server no longer has the first one's code.
    deploy(staticDir, second);
    expect((await page.request.get(`/app/${first.hash}/app.js`)).status()).toBe(404);
    await checkForUpdate(page);
    expect(await cacheNames(page)).toEqual([`gatehouse-${first.version}`, `gatehouse-${second.version}`]);
    // The browser's HTTP cache is no store to count on (a phone short of space empties it):
    // what the page loads next must come from the worker's caches.
    await (await phone.newCDPSession(page)).send('Network.clearBrowserCache');

    // The page still runs the first build; a screen it had not opened yet loads from that
    // build's cache.
    await page.getByTestId('back').click();
    const chunk = page.waitForResponse((response) => response.url().includes('/split_found_items_screen_'));
    await page.getByTestId('open-found-items').click();
    const loaded = await chunk;
    expect(new URL(loaded.url()).pathname).toContain(`/app/${first.hash}/`);
    expect(loaded.status()).toBe(200);
    expect(loaded.fromServiceWorker()).toBe(true);
    await expect(page.getByTestId('back')).toBeVisible();

    // The next load is the second build, still signed in, with the round written before.
    await page.reload();
    await expect(page.getByTestId('sign-out')).toBeVisible();
    expect(await pageBuild(page)).toBe(second.hash);
    await expect(h.roundItem(page, '更新前的巡逻')).toBeVisible();

    // With no network it opens the second build too.
    await phone.setOffline(true);
    await page.reload();
    await expect(page.getByTestId('sign-out')).toBeVisible();
    expect(await pageBuild(page)).toBe(second.hash);
    await expect(h.roundItem(page, '更新前的巡逻')).toBeVisible();
    await phone.setOffline(false);

    // A third build: the first build's cache goes, the second's stays for pages still on it.
    deploy(staticDir, third);
    await checkForUpdate(page);
    expect(await cacheNames(page)).toEqual([`gatehouse-${second.version}`, `gatehouse-${third.version}`]);
    await page.reload();
    await expect(page.getByTestId('sign-out')).toBeVisible();
    expect(await pageBuild(page)).toBe(third.hash);
  } finally {
    await phone.close();
    server.child.kill();
    fs.rmSync(work, { recursive: true, force: true });
  }
});
