// A guard's patrol log written with no network reaches the server and the office.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { test, expect } = require('@playwright/test');
const h = require('./helpers');

test('record_patrol_round_offline_and_office_sees_it_merged', async ({ browser }) => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-phone-'));

  // 1-2. The guard signs in once with the network; the interface is in Chinese, with English.
  let phone = await h.launchPhone(profile);
  let guard = phone.pages()[0] || (await phone.newPage());
  await h.signIn(guard, h.GUARD);
  await expect(guard.getByTestId('start-round')).toHaveText('开始巡逻');
  await guard.getByTestId('lang-switch').click();
  await expect(guard.getByTestId('start-round')).toHaveText('Start patrol round');
  await guard.getByTestId('lang-switch').click();
  await expect(guard.getByTestId('start-round')).toHaveText('开始巡逻');
  await h.waitForServiceWorker(guard);
  await expect(guard.getByTestId('connection-status')).toHaveAttribute('data-phase', 'online');

  // 3. The network drops; the guard records a whole round.
  await phone.setOffline(true);
  await expect(guard.getByTestId('connection-status')).toHaveAttribute('data-phase', 'offline');
  await h.startRound(guard, '地下车库夜间巡逻');
  await expect(guard.getByTestId('notice')).toHaveText('巡逻已保存在本机');
  await h.addVisit(guard, 'B2 东门', '正常');
  await expect(guard.getByTestId('notice')).toHaveText('已打卡，保存在本机');
  await expect(guard.getByTestId('visit-item')).toHaveCount(1);
  await h.addFinding(guard, { what: '消防通道门未关', where: 'B2 楼梯间', severity: 'high', followUp: true });
  await expect(guard.getByTestId('notice')).toHaveText('异常情况已保存在本机');
  await expect(guard.getByTestId('finding-item')).toHaveCount(1);
  // Ending asks first (a round on no route lists no checkpoints).
  await guard.getByTestId('end-round').click();
  await guard.getByTestId('confirm-end-round').click();
  await expect(guard.getByTestId('notice')).toHaveText('巡逻已结束并保存在本机');
  await expect(guard.getByTestId('record-status')).toHaveAttribute('data-status', 'local');

  await guard.getByTestId('back').click();

  // 4. Reload with no network: the app opens and every record is there.
  await guard.reload();
  const round = h.roundItem(guard, '地下车库夜间巡逻');
  await expect(round).toHaveCount(1);
  await expect(round.getByTestId('record-status')).toHaveAttribute('data-status', 'local');

  // ... and the same after closing the browser and opening it again, still offline.
  await phone.close();
  phone = await h.launchPhone(profile);
  await phone.setOffline(true);
  guard = phone.pages()[0] || (await phone.newPage());
  await guard.goto('/');
  await expect(h.roundItem(guard, '地下车库夜间巡逻')).toHaveCount(1);
  await expect(guard.getByTestId('connection-status')).toHaveAttribute('data-phase', 'offline');
  await h.roundItem(guard, '地下车库夜间巡逻').click();
  await expect(guard.getByTestId('visit-item')).toHaveCount(1);
  await expect(guard.getByTestId('finding-item')).toHaveCount(1);
  await guard.getByTestId('back').click();

  // 5. The network returns: the app syncs by itself and shows the server's receipt.
  await phone.setOffline(false);
  const status = h.roundItem(guard, '地下车库夜间巡逻').getByTestId('record-status');
  await expect(status).toHaveAttribute('data-status', 'received', { timeout: 45_000 });
  await expect(status).toContainText('已上传');

  // 6. The office clerk sees the merged logs, newest first, and new ones arrive live.
  const desk = await browser.newContext(h.DESKTOP);
  const office = await desk.newPage();
  await h.signIn(office, h.CLERK);
  await expect(h.officeItem(office, '地下车库夜间巡逻')).toHaveCount(1);
  await h.startRound(guard, '大堂白班巡逻');
  await expect(h.officeItem(office, '大堂白班巡逻')).toHaveCount(1);
  const routes = await office.getByTestId('office-title').allTextContents();
  expect(routes.indexOf('大堂白班巡逻')).toBeLessThan(routes.indexOf('地下车库夜间巡逻'));
  // A round under way and an ended one do not look the same.
  await expect(h.officeItem(office, '大堂白班巡逻').getByTestId('office-status')).toHaveAttribute('data-open', 'true');
  await expect(h.officeItem(office, '地下车库夜间巡逻').getByTestId('office-status')).toHaveAttribute('data-open', 'false');
  await guard.getByTestId('back').click();

  // 7. The clerk remarks on the night round while the guard, offline, adds a visit to it.
  await phone.setOffline(true);
  await expect(guard.getByTestId('connection-status')).toHaveAttribute('data-phase', 'offline');
  await h.roundItem(guard, '大堂白班巡逻').click();
  await h.addVisit(guard, '大堂前台', '访客登记正常');
  await expect(guard.getByTestId('visit-item')).toHaveCount(1);
  await expect(guard.getByTestId('record-status')).toHaveAttribute('data-status', 'local');

  // The clerk opens it from the keyboard.
  await h.officeItem(office, '大堂白班巡逻').focus();
  await office.keyboard.press('Enter');
  await expect(office.getByTestId('record-title')).toHaveText('大堂白班巡逻');
  await office.getByTestId('remark-input').fill('已通知保洁跟进');
  await office.getByTestId('add-remark').click();
  await expect(office.getByTestId('remark-item')).toHaveCount(1);
  await expect(office.getByTestId('record-status')).toHaveAttribute('data-status', 'received');

  await phone.setOffline(false);
  await expect(guard.getByTestId('remark-item')).toHaveText(/已通知保洁跟进/, { timeout: 45_000 });
  await expect(guard.getByTestId('visit-item')).toHaveCount(1);
  await expect(guard.getByTestId('record-status')).toHaveAttribute('data-status', 'received', { timeout: 45_000 });
  await expect(office.getByTestId('visit-item')).toHaveText(/大堂前台/, { timeout: 45_000 });
  await expect(office.getByTestId('remark-item')).toHaveCount(1);

  await desk.close();
  await phone.close();
  fs.rmSync(profile, { recursive: true, force: true });
});

test('sign_in_with_wrong_password_shows_why', async ({ page }) => {
  await page.goto('/');
  await page.getByTestId('username').fill('guard');
  await page.getByTestId('password').fill('wrong-password');
  await page.getByTestId('sign-in').click();
  await expect(page.getByTestId('sign-in-error')).toHaveText('用户名或密码错误');
});

test('visit_without_checkpoint_is_refused_with_the_reason', async ({ browser }) => {
  const context = await browser.newContext(h.PHONE);
  const page = await context.newPage();
  await h.signIn(page, h.GUARD);
  await h.startRound(page, '设备巡检');
  await h.addVisit(page, '   ', '');
  await expect(page.getByTestId('problems')).toContainText('巡更点：必填');
  await expect(page.getByTestId('visit-item')).toHaveCount(0);
  await context.close();
});

test('an_entry_the_phone_cannot_store_is_not_shown_as_saved', async ({ browser }) => {
  const context = await browser.newContext(h.PHONE);
  const page = await context.newPage();
  await h.signIn(page, h.GUARD);
  await h.startRound(page, '存储故障测试');
  // The phone's storage starts failing (as when it is full).
  await page.evaluate(() => {
    window.__realPut = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function () {
      throw new DOMException('storage full', 'QuotaExceededError');
    };
  });
  await h.addVisit(page, '天台', '存不下');
  await expect(page.getByTestId('notice')).toHaveText('保存失败：本机存储不可用，记录未保存');
  await expect(page.getByTestId('visit-item')).toHaveCount(0);
  // Storage works again: the next entry is saved, and only it survives a reload.
  await page.evaluate(() => { IDBObjectStore.prototype.put = window.__realPut; });
  await h.addVisit(page, '天台', '已保存');
  await expect(page.getByTestId('visit-item')).toHaveCount(1);
  await page.reload();
  await h.roundItem(page, '存储故障测试').click();
  await expect(page.getByTestId('visit-item')).toHaveCount(1);
  await expect(page.getByTestId('visit-item')).toContainText('已保存');
  await expect(page.getByTestId('record-status')).toHaveAttribute('data-status', 'received', { timeout: 45_000 });
  await context.close();
});

test('guard_of_two_estates_records_a_round_in_the_second', async ({ browser }) => {
  const phone = await browser.newContext(h.PHONE);
  const guard = await phone.newPage();
  await h.signIn(guard, h.GUARD);
  await h.startRound(guard, '阳光花园白班巡逻');
  await expect(guard.getByTestId('record-status')).toHaveAttribute('data-status', 'received');
  await guard.getByTestId('back').click();
  await guard.getByTestId('round-estate').selectOption('jade-lake');
  await h.startRound(guard, '翠湖居夜间巡逻');
  await expect(guard.getByTestId('record-status')).toHaveAttribute('data-status', 'received');

  // The clerk works in the first estate only: the round is not theirs to see.
  const desk = await browser.newContext(h.DESKTOP);
  const office = await desk.newPage();
  await h.signIn(office, h.CLERK);
  await expect(h.officeItem(office, '阳光花园白班巡逻')).toHaveCount(1);
  await expect(h.officeItem(office, '翠湖居夜间巡逻')).toHaveCount(0);
  await desk.close();
  await phone.close();
});

test('guard_corrects_a_visit_and_the_old_one_stays_struck_through', async ({ browser }) => {
  const phone = await browser.newContext({ ...h.PHONE, viewport: { width: 360, height: 780 } });
  const guard = await phone.newPage();
  await h.signIn(guard, h.GUARD);
  await h.startRound(guard, '更正测试巡逻');
  await h.addVisit(guard, 'B1 出口', '写错了巡更点');
  await expect(guard.getByTestId('visit-item')).toHaveCount(1);

  // The guard corrects the visit: the form starts from what it said.
  await guard.getByTestId('correct-visit').click();
  await expect(guard.getByTestId('checkpoint-input')).toHaveValue('B1 出口');
  await guard.getByTestId('checkpoint-input').fill('B2 出口');
  await guard.getByTestId('add-visit').click();
  await expect(guard.getByTestId('visit-item')).toHaveCount(2);
  const old = guard.getByTestId('visit-item').filter({ hasText: 'B1 出口' });
  const fixed = guard.getByTestId('visit-item').filter({ hasText: 'B2 出口' });
  await expect(old).toHaveAttribute('data-corrected', 'true');
  await expect(fixed).toHaveAttribute('data-corrected', 'false');
  await expect(fixed.getByTestId('correction-mark')).toHaveText('更正');
  // A corrected visit is not corrected again, and the server takes the correction.
  await expect(old.getByTestId('correct-visit')).toHaveCount(0);
  await expect(guard.getByTestId('record-status')).toHaveAttribute('data-status', 'received', { timeout: 45_000 });

  // The office counts the visit once and sees both entries.
  const desk = await browser.newContext(h.DESKTOP);
  const office = await desk.newPage();
  await h.signIn(office, h.CLERK);
  await expect(h.officeItem(office, '更正测试巡逻').getByTestId('office-visits')).toContainText('1');
  await h.officeItem(office, '更正测试巡逻').click();
  await expect(office.getByTestId('visit-item')).toHaveCount(2);
  await expect(office.getByTestId('visit-item').filter({ hasText: 'B1 出口' })).toHaveAttribute('data-corrected', 'true');
  await desk.close();
  await phone.close();
});

test('office_list_opened_offline_says_it_needs_the_network', async () => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-office-offline-'));
  const desk = await h.launchPhone(profile, h.SMALL_PHONE);
  const office = desk.pages()[0] || (await desk.newPage());
  await h.signIn(office, h.CLERK);
  await h.waitForServiceWorker(office);
  await expect(office.getByTestId('office-count')).toHaveAttribute('data-loaded', 'true');

  // The app opens with no network: the list is not there, and it says why instead of
  // "no records".
  await desk.setOffline(true);
  await office.reload();
  await expect(office.getByTestId('sign-out')).toBeVisible();
  await expect(office.getByTestId('office-count')).toHaveAttribute('data-loaded', 'false');
  await expect(office.getByTestId('office-count')).toHaveText('记录列表要联网才能载入：联网后会自动显示');
  await expect(office.getByTestId('office-list')).not.toContainText('暂无记录');
  await office.screenshot({ path: 'test-results/office-offline-360.png' });

  // Online again, the list comes.
  await desk.setOffline(false);
  await expect(office.getByTestId('office-count')).toHaveAttribute('data-loaded', 'true', { timeout: 45_000 });
  await expect(office.getByTestId('office-count')).toContainText('条记录');
  await desk.close();
  fs.rmSync(profile, { recursive: true, force: true });
});
