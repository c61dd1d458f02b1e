// The app in a gloved hand on a small phone: the header and the user bar stay one line
// each, a double tap records one visit, Enter records it too and the next checkpoint can be
// typed at once, a round needs its route, the save notice covers no button, and "sync now"
// with no network says what happens to the records. Before the app's code has loaded, a
// first screen shows.
const { test, expect } = require('@playwright/test');
const h = require('./helpers');

/** How many lines each element takes and whether it stays within the screen. */
async function layout(page, testIds) {
  return page.evaluate((ids) => ids.map((id) => {
    const el = document.querySelector(`[data-testid="${id}"]`);
    if (!el) return { id, missing: true };
    const r = el.getBoundingClientRect();
    const cs = getComputedStyle(el);
    const pad = parseFloat(cs.paddingTop) + parseFloat(cs.paddingBottom)
      + parseFloat(cs.borderTopWidth) + parseFloat(cs.borderBottomWidth);
    const line = parseFloat(cs.lineHeight) || parseFloat(cs.fontSize) * 1.5;
    return { id, lines: Math.round((r.height - pad) / line), right: Math.ceil(r.right), width: window.innerWidth };
  }), testIds);
}

const BAR = ['user-name', 'device-id', 'account', 'sign-out', 'connection-status', 'sync-now', 'lang-switch'];

for (const [name, device] of [['360', h.SMALL_PHONE], ['390', h.PHONE]]) {
  test(`header_and_user_bar_fit_a_${name}_px_phone`, async ({ browser }) => {
    const context = await browser.newContext(device);
    const page = await context.newPage();
    await page.goto('/');
    // No connection badge before anyone signs in.
    await expect(page.getByTestId('username')).toBeVisible();
    await expect(page.getByTestId('connection-status')).toHaveCount(0);
    await h.signIn(page, h.GUARD);
    for (const locale of ['zh', 'en']) {
      for (const box of await layout(page, BAR)) {
        expect(box.missing, `${box.id} (${locale})`).toBeUndefined();
        expect(box.lines, `${box.id} wraps (${locale})`).toBe(1);
        expect(box.right, `${box.id} overflows (${locale})`).toBeLessThanOrEqual(box.width);
      }
      await page.getByTestId('lang-switch').click();
    }
    await context.close();
  });
}

test('a_double_tap_records_one_visit_and_enter_records_the_next', async ({ browser }) => {
  const context = await browser.newContext(h.SMALL_PHONE);
  const guard = await context.newPage();
  await h.signIn(guard, h.GUARD);
  // A round needs its route.
  await guard.getByTestId('start-round').click();
  await expect(guard.getByTestId('problems')).toContainText('必填');
  await expect(guard.getByTestId('record')).toHaveCount(0);
  await h.startRound(guard, '手套巡逻');

  await guard.getByTestId('checkpoint-input').fill('东门');
  await guard.getByTestId('add-visit').dblclick();
  await expect(guard.getByTestId('notice')).toHaveText('已打卡，保存在本机');
  // The notice covers no button the round needs.
  const notice = await guard.getByTestId('notice').boundingBox();
  for (const id of ['add-visit', 'end-round', 'add-finding']) {
    const button = await guard.getByTestId(id).boundingBox();
    const overlaps = button && notice
      && button.x < notice.x + notice.width && notice.x < button.x + button.width
      && button.y < notice.y + notice.height && notice.y < button.y + button.height;
    expect(overlaps, `${id} under the notice`).toBeFalsy();
  }
  await expect(guard.getByTestId('visit-item')).toHaveCount(1);
  await expect(guard.getByTestId('checkpoint-input')).toBeFocused();
  // The keyboard's Enter records the next one.
  await guard.getByTestId('checkpoint-input').fill('西门');
  await guard.getByTestId('checkpoint-input').press('Enter');
  await expect(guard.getByTestId('visit-item')).toHaveCount(2);
  await expect(guard.getByTestId('checkpoint-input')).toHaveValue('');
  await context.close();
});

test('sync_now_with_no_network_says_the_records_wait', async ({ browser }) => {
  const context = await browser.newContext(h.SMALL_PHONE);
  let guard = await context.newPage();
  await h.signIn(guard, h.GUARD);
  await h.waitForServiceWorker(guard);
  await guard.close();
  await context.setOffline(true);
  guard = await context.newPage();
  await guard.goto('/');
  await expect(guard.getByTestId('connection-status')).toHaveAttribute('data-phase', 'offline');
  await guard.getByTestId('sync-now').click();
  await expect(guard.getByTestId('notice')).toHaveText('现在没有网络：记录都保存在本机，网络恢复后会自动上传');
  await context.close();
});

test('first_paint_shows_the_app_before_its_code_has_loaded', async ({ browser }) => {
  const context = await browser.newContext(h.SMALL_PHONE);
  const page = await context.newPage();
  // The app's code arrives only when the test lets it (a slow link).
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await page.route('**/app_bg.wasm', async (route) => { await held; await route.continue(); });
  await page.goto('/');
  await expect(page.locator('#boot h1')).toHaveText('Gatehouse 物业现场记录');
  await expect(page.locator('#boot [role="status"]')).toHaveText('正在打开…');
  await expect(page.locator('#boot')).toContainText('没有网络也能打开和记录');
  release();
  // The app replaces it: one h1, the sign-in form.
  await expect(page.getByTestId('username')).toBeVisible();
  await expect(page.locator('#boot')).toHaveCount(0);
  await expect(page.locator('h1')).toHaveCount(1);

  await context.close();

  // The code cannot be fetched at all: the first screen says so, in the language chosen.
  const other = await browser.newContext(h.SMALL_PHONE);
  await other.addInitScript(() => localStorage.setItem('gatehouse.locale', 'en'));
  const broken = await other.newPage();
  await broken.route('**/app_bg.wasm', (route) => route.abort());
  await broken.goto('/');
  await expect(broken.locator('#boot h1')).toHaveText('Gatehouse field records');
  await expect(broken.locator('#boot-failed')).toBeVisible();
  await expect(broken.locator('#boot-failed')).toContainText('could not open');
  await expect(broken.locator('html')).toHaveAttribute('lang', 'en');
  await other.close();
});

test('a_guard_on_a_second_phone_sees_his_own_rounds', async ({ browser }) => {
  // The round of a phone handed over (or replaced): written on the first phone...
  const first = await browser.newContext(h.PHONE);
  const old = await first.newPage();
  await h.signIn(old, h.GUARD);
  const title = `交接班巡逻 ${Date.now()}`;
  await h.startRound(old, title);
  await h.addVisit(old, '东门岗亭', '交接前');
  await expect(old.getByTestId('record-status')).toHaveAttribute('data-status', 'received', { timeout: 45_000 });
  // ...is on the second phone the guard signs in on, with its visit, and he can go on with it.
  const second = await browser.newContext(h.SMALL_PHONE);
  const phone = await second.newPage();
  await h.signIn(phone, h.GUARD);
  await expect(h.roundItem(phone, title)).toHaveCount(1, { timeout: 45_000 });
  await h.roundItem(phone, title).click();
  await expect(phone.getByTestId('visit-item')).toHaveText(/东门岗亭/, { timeout: 45_000 });
  await h.addVisit(phone, '北门', '交接后');
  await expect(phone.getByTestId('record-status')).toHaveAttribute('data-status', 'received', { timeout: 45_000 });
  await expect(old.getByTestId('visit-item')).toHaveCount(2, { timeout: 45_000 });
  await first.close();
  await second.close();
});

test('what_is_typed_survives_the_network_coming_and_going', async ({ browser }) => {
  const context = await browser.newContext(h.SMALL_PHONE);
  const page = await context.newPage();
  await h.signIn(page, h.GUARD);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-phase', 'online');
  await page.getByTestId('route-input').fill('写到一半的路线');
  await context.setOffline(true);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-phase', 'offline');
  await context.setOffline(false);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-phase', 'online', { timeout: 45_000 });
  await expect(page.getByTestId('route-input')).toHaveValue('写到一半的路线');
  await context.close();
});

// The records' code and the field screens come in chunks after the first screen. A guard
// who loses the network right after signing in, before the service worker keeps the app (a
// first start; here there is none at all), still records a round and presses "sync now":
// the app fetched what that needs while it opened. A chunk the app has not fetched cannot
// load offline, and that aborts the whole app.
test('a_guard_offline_before_the_app_is_kept_still_records_a_round', async ({ browser }) => {
  const context = await browser.newContext({ ...h.SMALL_PHONE, serviceWorkers: 'block' });
  const guard = await context.newPage();
  const failed = [];
  guard.on('requestfailed', (request) => failed.push(new URL(request.url()).pathname));
  await h.signIn(guard, h.GUARD);
  await guard.waitForLoadState('networkidle');
  await context.setOffline(true);
  await h.startRound(guard, '未缓存时的巡逻');
  await h.addVisit(guard, 'B1 西门', '正常');
  await expect(guard.getByTestId('visit-item')).toHaveCount(1);
  // (Playwright's offline switch leaves the socket open: the app still thinks it is online.)
  await guard.getByTestId('sync-now').click();
  await guard.getByTestId('back').click();
  await expect(h.roundItem(guard, '未缓存时的巡逻')).toBeVisible();
  expect(failed.filter((path) => path.endsWith('.wasm') || path.endsWith('.bin'))).toEqual([]);
  await context.close();
});
