// One phone, the app open in two tabs: one tab works with the records at a time, the other
// says so and can take over; nothing entered in either is lost.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { test, expect } = require('@playwright/test');
const h = require('./helpers');

test('app_open_in_two_tabs_loses_nothing', async ({ browser }) => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-tabs-'));
  const phone = await h.launchPhone(profile, h.SMALL_PHONE);
  const first = phone.pages()[0] || (await phone.newPage());
  await h.signIn(first, h.GUARD);
  await h.waitForServiceWorker(first);
  await phone.setOffline(true);
  await expect(first.getByTestId('connection-status')).toHaveAttribute('data-phase', 'offline');
  await h.startRound(first, '两个标签页的巡逻');
  await h.addVisit(first, '东门', '第一个标签页');
  await expect(first.getByTestId('visit-item')).toHaveCount(1);

  // A second tab opens: the first one holds the records, so it says so.
  const second = await phone.newPage();
  await second.goto('/');
  await expect(second.getByTestId('open-elsewhere')).toBeVisible();
  await expect(second.getByTestId('start-round')).toHaveCount(0);

  // "Use here": the first tab lets go, the second reads everything the first saved.
  await second.getByTestId('use-here').click();
  await expect(first.getByTestId('open-elsewhere')).toBeVisible();
  await h.roundItem(second, '两个标签页的巡逻').click();
  await expect(second.getByTestId('visit-item')).toHaveCount(1);
  await h.addVisit(second, '西门', '第二个标签页');
  await expect(second.getByTestId('visit-item')).toHaveCount(2);

  // And back to the first tab: it sees the second tab's visit and adds its own.
  await first.getByTestId('use-here').click();
  await expect(second.getByTestId('open-elsewhere')).toBeVisible();
  await h.roundItem(first, '两个标签页的巡逻').click();
  await expect(first.getByTestId('visit-item')).toHaveCount(2);
  await h.addVisit(first, '北门', '又回到第一个标签页');
  await expect(first.getByTestId('visit-item')).toHaveCount(3);

  // Online again: every visit reaches the server, and the office sees all three.
  await phone.setOffline(false);
  await expect(first.getByTestId('record-status')).toHaveAttribute('data-status', 'received', { timeout: 45_000 });
  const desk = await browser.newContext(h.DESKTOP);
  const office = await desk.newPage();
  await h.signIn(office, h.CLERK);
  await h.officeItem(office, '两个标签页的巡逻').click();
  await expect(office.getByTestId('visit-item')).toHaveCount(3);

  await desk.close();
  await phone.close();
  fs.rmSync(profile, { recursive: true, force: true });
});
