// Cold start benchmark (issue 11), run by `cargo xtask bench` against the server it starts
// (BASE_URL) with the app as built. Debian's Chromium on a phone-sized screen, the CPU
// slowed 4x and the network shaped like Chrome DevTools' "Slow 4G" preset (562.5 ms of
// latency, 1.47 Mbit/s down, 675 kbit/s up), both through the DevTools protocol.
//
// Five times, each in a new browser profile:
// - first load: from navigation to the sign-in form usable (the app, not the boot screen,
//   shows the username field and it takes input), nothing cached;
// - repeat load: the same page loaded again once the service worker controls it.
// - the guard's home (a third profile): the demo guard signs in the moment the form takes
//   input; from navigation to the guard's home shown (its "start a round" button). This is
//   what a guard opening the app for the first time waits for in all: the sign-in's round
//   trip and the records' code (loaded after the form shows) included. Seen by Playwright's
//   polling, so up to a few hundred ms late under the slowdown.
// Times are the page's own clock (`performance.now()`, from the navigation's start), stamped
// by the page at the first frame that shows the form (see `stampFormShown`).
// Prints `coldstart-bench first_ms_min=F1 first_ms_median=F2 repeat_ms_min=R1 repeat_ms_median=R2`
// and `coldstart-guard home_ms_min=H1 home_ms_median=H2`.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('@playwright/test');
const { chromiumArgs } = require('../playwright.config');

const RUNS = 5;
const SLOW_4G = {
  offline: false,
  latency: 562.5,
  downloadThroughput: (1.47 * 1024 * 1024) / 8,
  uploadThroughput: (675 * 1024) / 8,
};
const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true };

// With COLDSTART_TRACE=1, each load also prints when each file started and finished
// arriving and its size on the wire, to see where the time goes.
async function trace(page, label) {
  if (!process.env.COLDSTART_TRACE) return;
  const entries = await page.evaluate(() =>
    performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation')).map((e) => ({
      name: new URL(e.name).pathname,
      start: Math.round(e.startTime),
      end: Math.round(e.responseEnd),
      bytes: e.transferSize,
    })),
  );
  entries.sort((a, b) => a.start - b.start);
  for (const e of entries) console.log(`  ${label} ${e.name}: ${e.start}-${e.end} ms, ${e.bytes} bytes`);
}

// Stamps, in the page, the first frame painted with the username field shown and enabled.
// Stamped by the page itself because under the 4x slowdown Playwright's own polling and
// actionability checks added 50-520 ms after the field was there (measured: the field in
// the DOM at 4.67 s, Playwright's fill done at 5.11 s).
function stampFormShown() {
  const shown = () => {
    const field = document.querySelector('[data-testid="username"]');
    return field && !field.disabled && field.getClientRects().length > 0;
  };
  const observer = new MutationObserver(() => {
    if (window.__formShownAt === undefined && shown()) {
      observer.disconnect();
      requestAnimationFrame(() => {
        window.__formShownAt = performance.now();
      });
    }
  });
  observer.observe(document, { subtree: true, childList: true, attributes: true });
}

// When the form was shown, once Playwright has typed into it (so it takes input). Also
// returns when Playwright saw it usable, the measure before the page stamped it.
async function usableAfter(page) {
  const username = page.getByTestId('username');
  await username.waitFor({ state: 'visible', timeout: 120_000 });
  await username.fill('x');
  const [shown, seen] = await page.evaluate(() => [window.__formShownAt, performance.now()]);
  if (typeof shown !== 'number') throw new Error('the page did not stamp when the form showed');
  return { shown, seen };
}

// A new browser profile on the slow phone and network; `measure(page)` runs in it.
async function inNewProfile(baseURL, measure) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-coldstart-'));
  const context = await chromium.launchPersistentContext(profile, {
    ...PHONE,
    baseURL,
    executablePath: '/usr/bin/chromium',
    args: chromiumArgs,
  });
  try {
    const page = context.pages()[0] || (await context.newPage());
    await page.addInitScript(stampFormShown);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', SLOW_4G);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
    return await measure(page);
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

async function guardHome(page) {
  await page.goto('/', { waitUntil: 'commit' });
  await usableAfter(page);
  await page.getByTestId('username').fill('guard');
  await page.getByTestId('password').fill('guard-demo-2026');
  await page.getByTestId('sign-in').click();
  await page.getByTestId('start-round').waitFor({ state: 'visible', timeout: 120_000 });
  const home = await page.evaluate(() => performance.now());
  await trace(page, 'guard');
  return home;
}

async function run(baseURL) {
  return inNewProfile(baseURL, async (page) => {
    await page.goto('/', { waitUntil: 'commit' });
    const first = await usableAfter(page);
    await trace(page, 'first');
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
      if (!navigator.serviceWorker.controller) {
        await new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }));
      }
    });
    await page.reload({ waitUntil: 'commit' });
    const repeat = await usableAfter(page);
    await trace(page, 'repeat');
    return { first, repeat };
  });
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

(async () => {
  const baseURL = process.env.BASE_URL;
  if (!baseURL) throw new Error('BASE_URL is not set');
  const first = [];
  const repeat = [];
  const home = [];
  for (let i = 0; i < RUNS; i += 1) {
    const times = await run(baseURL);
    home.push(await inNewProfile(baseURL, guardHome));
    console.log(
      `coldstart: run ${i + 1}: first load ${Math.round(times.first.shown)} ms ` +
        `(Playwright's fill done at ${Math.round(times.first.seen)} ms), repeat ${Math.round(times.repeat.shown)} ms ` +
        `(${Math.round(times.repeat.seen)} ms), guard's home ${Math.round(home[i])} ms`,
    );
    first.push(times.first.shown);
    repeat.push(times.repeat.shown);
  }
  const ms = (value) => Math.round(value);
  console.log(
    `coldstart-bench first_ms_min=${ms(Math.min(...first))} first_ms_median=${ms(median(first))} ` +
      `repeat_ms_min=${ms(Math.min(...repeat))} repeat_ms_median=${ms(median(repeat))}`,
  );
  console.log(`coldstart-guard home_ms_min=${ms(Math.min(...home))} home_ms_median=${ms(median(home))}`);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
