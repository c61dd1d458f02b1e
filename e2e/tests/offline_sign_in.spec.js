// Signed out, or the session over, with no network: a user who signed in on this phone
// before signs in again and goes on working; what he writes goes up once the server accepts
// him again. Wrong passwords count, and too many lock offline sign-in for a while.
const { test, expect } = require('@playwright/test');
const h = require('./helpers');

async function signInForm(page, { username, password }) {
  await page.getByTestId('username').fill(username);
  await page.getByTestId('password').fill(password);
  await page.getByTestId('sign-in').click();
}

test('sign_in_again_offline', async ({ browser }) => {
  const guard = await h.newGuard(browser, 'offline');
  const phone = await browser.newContext(h.SMALL_PHONE);
  await phone.clock.install({ time: Date.now() });
  const page = await phone.newPage();
  await h.signIn(page, guard);
  await h.waitForServiceWorker(page);
  // The phone keeps what it needs to check the password offline (never the password).
  const kept = () => page.evaluate((name) => new Promise((resolve) => {
    const open = indexedDB.open('gatehouse');
    open.onsuccess = () => {
      const get = open.result.transaction('meta').objectStore('meta').get(`offline_sign_in:${name}`);
      get.onsuccess = () => resolve(get.result ? JSON.stringify(get.result) : '');
      get.onerror = () => resolve('');
    };
    open.onerror = () => resolve('');
  }), guard.username);
  await expect.poll(kept, { timeout: 20_000 }).toContain('check');
  expect(await kept()).not.toContain(guard.password);
  expect(await page.evaluate(() => JSON.stringify(localStorage))).not.toContain(guard.password);

  // He signs out; the network is gone.
  await page.getByTestId('sign-out').click();
  await expect(page.getByTestId('sign-in')).toBeVisible();
  await phone.setOffline(true);
  await page.reload();
  await expect(page.getByTestId('sign-in')).toBeVisible();

  // Someone who never signed in on this phone is told the network is needed.
  await signInForm(page, { username: 'nobody-here', password: 'whatever-2026' });
  await expect(page.getByTestId('sign-in-error')).toContainText('需要网络');
  // A wrong password is refused, and counts.
  await signInForm(page, { username: guard.username, password: 'wrong-password' });
  await expect(page.getByTestId('sign-in-error')).toContainText('密码不正确');
  await expect(page.getByTestId('sign-in-error')).toContainText('4');
  for (let i = 0; i < 4; i += 1) {
    await signInForm(page, { username: guard.username, password: `wrong-${i}` });
    await expect(page.getByTestId('sign-in-error')).toContainText(i < 3 ? `${3 - i}` : '暂停');
  }
  // Locked: even the right password waits...
  await signInForm(page, guard);
  await expect(page.getByTestId('sign-in-error')).toContainText('暂停');
  // ...until the lock is over (the phone's clock is then put right again, or the server
  // would refuse what it writes as dated in the future).
  await phone.clock.setSystemTime(Date.now() + 6 * 60_000);
  await signInForm(page, guard);
  await expect(page.getByTestId('sign-out')).toBeVisible();
  await phone.clock.setSystemTime(Date.now());
  await expect(page.getByTestId('notice')).toContainText('没有网络');

  // He works: a round, offline.
  const title = `离线登录后的巡逻 ${Date.now()}`;
  await h.startRound(page, title);
  await page.getByTestId('back').click();
  await expect(page.getByTestId('unsynced-count')).toHaveText('1');

  // The network returns. He had signed out with the network, so the server ended that
  // session: the phone says so, he signs in once, and the round goes up.
  await phone.setOffline(false);
  await expect(page.getByTestId('session-ended')).toBeVisible({ timeout: 45_000 });
  await page.getByTestId('sign-in-again').click();
  await signInForm(page, guard);
  await expect(h.roundItem(page, title).getByTestId('record-status')).toHaveAttribute('data-status', 'received', { timeout: 45_000 });
  await phone.close();
});
