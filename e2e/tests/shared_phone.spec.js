// Two guards share one phone: each sees and syncs only their own records, and nothing
// of the other's is lost when they sign out.
const { test, expect } = require('@playwright/test');
const h = require('./helpers');

const SECOND = { username: 'day-guard', password: 'day-guard-2026' };

test('guards_sharing_a_phone_see_only_their_own_records', async ({ browser }) => {
  // A guard of his own: the demo guard's open rounds would change what this counts.
  const guardUser = await h.newGuard(browser, 'night');
  // The admin adds a second guard.
  const desk = await browser.newContext(h.DESKTOP);
  const admin = await desk.newPage();
  await h.signIn(admin, h.ADMIN);
  await admin.getByTestId('new-username').fill(SECOND.username);
  await admin.getByTestId('new-display-name').fill('白班保安');
  await admin.getByTestId('new-password-admin').fill(SECOND.password);
  await admin.getByTestId('create-user').click();
  await expect(admin.getByTestId('admin-message')).toHaveText('用户已添加');
  await desk.close();

  const phone = await browser.newContext(h.PHONE);
  const page = await phone.newPage();
  // The first guard writes a round offline and signs out before it is sent.
  await h.signIn(page, guardUser);
  await phone.setOffline(true);
  await h.startRound(page, '夜班：共用手机');
  await page.getByTestId('back').click();
  await page.getByTestId('sign-out').click();
  await expect(page.getByTestId('unsynced-count')).toHaveText('1');

  // The second guard signs in on the same phone: the first guard's round is not theirs.
  await phone.setOffline(false);
  await page.getByTestId('username').fill(SECOND.username);
  await page.getByTestId('password').fill(SECOND.password);
  await page.getByTestId('sign-in').click();
  await expect(page.getByTestId('sign-out')).toBeVisible();
  await expect(h.roundItem(page, '夜班：共用手机')).toHaveCount(0);
  await expect(page.getByTestId('unsynced-panel')).toHaveCount(0);
  await h.startRound(page, '白班：共用手机');
  await expect(page.getByTestId('record-status')).toHaveAttribute('data-status', 'received');
  await page.getByTestId('back').click();
  await page.getByTestId('sign-out').click();

  // The first guard signs in again: their round is there and now reaches the server.
  await page.getByTestId('username').fill(guardUser.username);
  await page.getByTestId('password').fill(guardUser.password);
  await page.getByTestId('sign-in').click();
  await expect(page.getByTestId('sign-out')).toBeVisible();
  await expect(h.roundItem(page, '白班：共用手机')).toHaveCount(0);
  const status = h.roundItem(page, '夜班：共用手机').getByTestId('record-status');
  await expect(status).toHaveAttribute('data-status', 'received', { timeout: 45_000 });
  await phone.close();
});
