// What the guard sees when the server refuses: a record refused with its reason and put
// right, and a revoked phone that writes nothing new, keeps its unsynced records and exports
// them, and sends them once re-enabled.
const fs = require('fs');
const { test, expect } = require('@playwright/test');
const h = require('./helpers');

const DAY_MS = 24 * 60 * 60 * 1000;

test('record_refused_by_the_server_is_corrected_and_syncs', async ({ browser }) => {
  // A guard of his own: the demo guard's open rounds would change what this counts.
  const guardUser = await h.newGuard(browser, 'clock');
  const context = await browser.newContext(h.PHONE);
  // The phone's clock, which the test sets wrong and then right again.
  await context.clock.install({ time: Date.now() });
  const page = await context.newPage();
  await h.signIn(page, guardUser);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-phase', 'online');
  await h.startRound(page, '停车场巡逻（时钟）');
  const status = page.getByTestId('record-status');
  await expect(status).toHaveAttribute('data-status', 'received');

  // The phone's clock jumps a day ahead; the visit it records is refused by the server.
  await context.clock.setSystemTime(Date.now() + DAY_MS);
  await h.addVisit(page, 'B1 出口', '时钟错误时记录');
  await expect(page.getByTestId('visit-item')).toHaveCount(1);
  await expect(status).toHaveAttribute('data-status', 'rejected', { timeout: 45_000 });
  await expect(page.getByTestId('server-problems')).toContainText('时间：晚于服务器时间：请检查手机时钟');
  // More changes on top of a refused one are not accepted until it is corrected.
  await expect(page.getByTestId('add-visit')).toHaveCount(0);

  // The clock is put right; the guard corrects the record and enters the visit again.
  await context.clock.setSystemTime(Date.now());
  await page.getByTestId('correct-record').click();
  await expect(page.getByTestId('visit-item')).toHaveCount(0);
  await expect(page.getByTestId('set-aside-entry')).toContainText('B1 出口');
  await h.addVisit(page, 'B1 出口', '重新记录');
  await expect(page.getByTestId('visit-item')).toHaveCount(1);
  await expect(status).toHaveAttribute('data-status', 'received', { timeout: 45_000 });

  // After a reload the refused version is still kept on the phone, apart from the record.
  await page.reload();
  await h.roundItem(page, '停车场巡逻（时钟）').click();
  await expect(page.getByTestId('visit-item')).toHaveText(/重新记录/);
  await expect(page.getByTestId('set-aside-item')).toHaveCount(1);
  await expect(page.getByTestId('record-status')).toHaveAttribute('data-status', 'received', { timeout: 45_000 });
  await context.close();
});

test('a_round_refused_at_its_start_is_corrected_not_left_dead', async ({ browser }) => {
  // A guard of his own: the demo guard's open rounds would change what this counts.
  const guardUser = await h.newGuard(browser, 'start');
  const context = await browser.newContext(h.PHONE);
  await context.clock.install({ time: Date.now() });
  const page = await context.newPage();
  await h.signIn(page, guardUser);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-phase', 'online');
  // The phone's clock is 5 min 15 s fast when the round starts: the server refuses it
  // (it allows 5 minutes), and has nothing of it.
  const startedAt = Date.now();
  await context.clock.setSystemTime(startedAt + 315_000);
  const title = `快时钟巡逻 ${startedAt}`;
  await h.startRound(page, title);
  const status = page.getByTestId('record-status');
  await expect(status).toHaveAttribute('data-status', 'rejected', { timeout: 45_000 });
  await expect(page.getByTestId('server-problems')).toContainText('晚于服务器时间');

  // The record is there, with why and what to do, counted among those not uploaded.
  await expect(page.getByTestId('record-title')).toHaveText(title);
  await expect(page.getByTestId('clock-hint')).toContainText('手机时钟偏快');
  await page.getByTestId('back').click();
  await expect(page.getByTestId('unsynced-count')).toHaveText('1');

  // The clock is put right and the guard corrects at once: the round is sent again as it is
  // and, its start still being later than the server allows, refused again with the reason.
  await context.clock.setSystemTime(Date.now());
  await h.roundItem(page, title).click();
  await expect(page.getByTestId('notice')).toHaveCount(0, { timeout: 15_000 });
  await page.getByTestId('correct-record').click();
  // Sent again (the server's refusal may replace that notice at once).
  await expect(page.getByTestId('notice')).toHaveText(/已重新发送，等待服务器接收|服务器拒收此记录/);
  await expect(status).toHaveAttribute('data-status', 'rejected', { timeout: 45_000 });
  await expect(page.getByTestId('server-problems')).toContainText('晚于服务器时间');
  await expect(page.getByTestId('correct-record')).toBeVisible();

  // Once its start is no longer ahead of the server by more than it allows, correcting
  // sends it again and it goes up, with nothing to fill in again; visits can be added.
  await page.waitForTimeout(Math.max(0, startedAt + 27_000 - Date.now()));
  await page.getByTestId('correct-record').click();
  await expect(status).toHaveAttribute('data-status', 'received', { timeout: 45_000 });
  await expect(page.getByTestId('add-visit')).toBeVisible();
  await page.reload();
  await h.roundItem(page, title).click();
  await expect(page.getByTestId('record-status')).toHaveAttribute('data-status', 'received', { timeout: 45_000 });
  await context.close();
});

test('revoked_phone_cannot_write', async ({ browser }) => {
  // A guard of his own: the demo guard's open rounds would change what this counts.
  const guardUser = await h.newGuard(browser, 'revoked');
  const phone = await browser.newContext({ ...h.PHONE, acceptDownloads: true });
  const guard = await phone.newPage();
  await h.signIn(guard, guardUser);
  await expect(guard.getByTestId('connection-status')).toHaveAttribute('data-phase', 'online');
  // The app opens offline later in the test.
  await h.waitForServiceWorker(guard);
  const deviceId = await guard.getByTestId('device-id').getAttribute('data-device');
  expect(deviceId).toMatch(/^dev-/);

  // Offline, the guard records a round; meanwhile the admin revokes the phone.
  const title = `被停用手机的巡逻 ${Date.now()}`;
  await phone.setOffline(true);
  await expect(guard.getByTestId('connection-status')).toHaveAttribute('data-phase', 'offline');
  await h.startRound(guard, title);
  await guard.getByTestId('back').click();

  const desk = await browser.newContext(h.DESKTOP);
  const admin = await desk.newPage();
  await h.signIn(admin, h.ADMIN);
  const row = admin.locator(`[data-testid="admin-device"][data-device="${deviceId}"]`);
  await row.getByTestId('revoke-device').click();
  await row.getByTestId('revoke-device-confirm').click();
  await expect(row).toContainText('已停用');

  // Back online, the phone is told and says what happened; it offers no form to write in,
  // also after a reload with no network.
  await phone.setOffline(false);
  await expect(guard.getByTestId('connection-status')).toHaveAttribute('data-phase', 'device_revoked', { timeout: 45_000 });
  await expect(guard.getByTestId('device-revoked')).toContainText('此设备已停用');
  await expect(guard.getByTestId('start-round')).toHaveCount(0);
  await expect(guard.getByTestId('unsynced-count')).toHaveText('1');
  await phone.setOffline(true);
  await guard.reload();
  await expect(guard.getByTestId('device-revoked')).toBeVisible();
  await expect(guard.getByTestId('start-round')).toHaveCount(0);
  await expect(guard.getByTestId('unsynced-count')).toHaveText('1');
  await phone.setOffline(false);

  // The round can be exported as a file.
  const [download] = await Promise.all([
    guard.waitForEvent('download'),
    guard.getByTestId('export-unsynced').click(),
  ]);
  const exported = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
  expect(exported.format).toBe('gatehouse-unsynced-records-v2');
  expect(exported.records.map((r) => r.title)).toEqual([title]);
  expect(exported.records[0].automerge_base64.length).toBeGreaterThan(100);

  // Signing in again on this phone is refused, and the record is still there.
  await guard.getByTestId('sign-in-again').click();
  await expect(guard.getByTestId('unsynced-count')).toHaveText('1');
  await guard.getByTestId('username').fill(guardUser.username);
  await guard.getByTestId('password').fill(guardUser.password);
  await guard.getByTestId('sign-in').click();
  await expect(guard.getByTestId('sign-in-error')).toContainText('此设备已被管理员停用');

  // The office never received it.
  const office = await browser.newContext(h.DESKTOP);
  const clerkPage = await office.newPage();
  await h.signIn(clerkPage, h.CLERK);
  await expect(clerkPage.getByTestId('office-item').first()).toBeVisible();
  await expect(h.officeItem(clerkPage, title)).toHaveCount(0);

  // The admin re-enables the phone: the guard signs in again and the round goes up.
  await admin.reload();
  await row.getByTestId('restore-device').click();
  await expect(row.getByTestId('revoke-device')).toBeVisible();
  await guard.getByTestId('password').fill(guardUser.password);
  await guard.getByTestId('sign-in').click();
  await expect(h.roundItem(guard, title).getByTestId('record-status')).toHaveAttribute('data-status', 'received', { timeout: 45_000 });
  await clerkPage.reload();
  await expect(h.officeItem(clerkPage, title)).toHaveCount(1);
  await office.close();
  await desk.close();
  await phone.close();
});
