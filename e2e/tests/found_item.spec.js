// Found items: a cleaner registers a handbag where she found it, with no network, counts it
// with a witness and both sign; the desk confirms receipt with its own count; the claimant
// describes it, shows ID and signs; the office sees the whole chain of custody. And an item
// nobody claims goes on the printable notice, without anything that identifies its owner.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { test, expect } = require('@playwright/test');
const h = require('./helpers');

/** A tag with no digits (a public description refuses runs of digits). */
function tag() {
  return Date.now().toString(26).replace(/\d/g, (d) => 'qrstuvwxyz'[d]);
}

async function sign(page, testid, expectedName) {
  const box = page.getByTestId(testid);
  await expect(box).toBeVisible();
  await expect(box.getByTestId('signer-name')).toHaveValue(expectedName);
  await h.drawSignature(page);
  await box.getByTestId('confirm-signature').click();
}

async function register(page, { description, category, area, lines, witness }) {
  await page.getByTestId('found-description').fill(description);
  await page.getByTestId(`category-${category}`).click();
  await page.getByTestId('found-building').fill('A座');
  await page.getByTestId('found-floor').fill('15楼');
  await page.getByTestId('found-area').fill(area);
  await page.getByTestId('found-spot').fill('门后挂钩');
  await page.getByTestId('register-found').click();
  await expect(page.getByTestId('notice')).toHaveText('已登记，已保存在本机');
  await expect(page.getByTestId('found-details')).toHaveAttribute('data-status', 'with_finder');
  if (!lines) return;
  for (const [i, line] of lines.entries()) {
    if (i > 0) await page.getByTestId('add-line').click();
    const row = page.getByTestId('count-line').nth(i);
    await row.getByTestId('line-what').fill(line.what);
    await row.getByTestId('line-content').selectOption(line.content);
    await row.getByTestId('line-quantity').fill(String(line.quantity || 1));
    if (line.amount) await row.getByTestId('line-amount').fill(line.amount);
  }
  await page.getByTestId('witness-name').fill(witness);
  await page.getByTestId('save-count').click();
  await expect(page.getByTestId('notice')).toHaveText('清点已保存');
  await sign(page, 'sign-finder', '刘阿姨');
  await expect(page.getByTestId('notice')).toHaveText('签名已保存');
  await sign(page, 'sign-witness', witness);
  await expect(page.getByTestId('notice')).toHaveText('签名已保存');
  await expect(page.getByTestId('count-witnessed')).toBeVisible();
}

async function openAtDesk(office, description) {
  await office.getByTestId('open-found-items').click();
  const row = office.getByTestId('office-found-item').filter({ hasText: description });
  await expect(row).toHaveCount(1);
  await row.click();
}

test('found_handbag_is_claimed_with_id_and_receipt', async ({ browser }) => {
  const description = `黑色皮质手提包 ${tag()}`;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-cleaner-'));
  const phone = await h.launchPhone(profile, h.SMALL_PHONE);
  const cleaner = phone.pages()[0] || (await phone.newPage());
  await h.signIn(cleaner, h.CLEANER);
  // A cleaner's home is the found items: register one, and hers.
  await expect(cleaner.getByTestId('register-found-form')).toBeVisible();
  await h.waitForServiceWorker(cleaner);
  await expect(cleaner.getByTestId('connection-status')).toHaveAttribute('data-phase', 'online');

  // In the washroom on the 15th floor, with no network.
  await phone.setOffline(true);
  await expect(cleaner.getByTestId('connection-status')).toHaveAttribute('data-phase', 'offline');
  // A description with an ID number in it would go on the public notice: refused.
  await cleaner.getByTestId('found-description').fill('钱包 身份证110101199001011234');
  await cleaner.getByTestId('found-area').fill('4号卫生间');
  await cleaner.getByTestId('register-found').click();
  await expect(cleaner.getByTestId('problems')).toContainText('不要写号码');
  await register(cleaner, {
    description,
    category: 'bag',
    area: '4号卫生间',
    witness: '王保安',
    lines: [
      { what: '现金', content: 'cash', amount: '520' },
      { what: '身份证', content: 'id_document' },
      { what: '银行卡', content: 'card', quantity: 2 },
    ],
  });
  await cleaner.getByTestId('hand-over-button').click();
  await expect(cleaner.getByTestId('notice')).toHaveText('已记录移交，等待服务台确认');
  await expect(cleaner.getByTestId('found-details')).toHaveAttribute('data-status', 'handing_over');
  await expect(cleaner.getByTestId('custody-step')).toHaveCount(2);
  await cleaner.screenshot({ path: 'test-results/found-item-finder-360.png', fullPage: true });

  // Back at the desk's floor, the network returns.
  await phone.setOffline(false);
  await expect(cleaner.getByTestId('record-status')).toHaveAttribute('data-status', 'received', { timeout: 45_000 });

  // The desk takes it, recounting on its own device.
  const desk = await browser.newContext(h.DESKTOP);
  const office = await desk.newPage();
  await h.signIn(office, h.CLERK);
  await openAtDesk(office, description);
  await expect(office.getByTestId('confirm-receipt')).toBeVisible();
  await expect(office.getByTestId('count-line')).toHaveCount(3);
  await office.getByTestId('confirm-receipt-button').click();
  await expect(office.getByTestId('notice')).toHaveText('已确认接收');
  await expect(office.getByTestId('found-details')).toHaveAttribute('data-status', 'at_desk');
  await office.getByTestId('search-channel').selectOption('floor_companies');
  await office.getByTestId('search-note').fill('15楼三家公司均未丢失');
  await office.getByTestId('save-search').click();
  await expect(office.getByTestId('found-searches')).toContainText('15楼三家公司');

  // The claimant describes it before seeing it, shows her ID, and signs for what she takes.
  await office.getByTestId('claimant-name').fill('张女士');
  await office.getByTestId('claimant-description-input').fill('黑色手提包，里面有身份证、两张银行卡和五百多元现金');
  await office.getByTestId('record-description').click();
  await expect(office.getByTestId('notice')).toHaveText('描述已记录');
  await office.getByTestId('id-number').fill('110101199001011234');
  await office.getByTestId('claim-next').click();
  await expect(office.getByTestId('problems')).toContainText('核对认领人证件');
  await office.getByTestId('id-checked').check();
  await office.getByTestId('claimant-phone').fill('13800001111');
  await office.getByTestId('claim-next').click();
  const receipt = office.getByTestId('sign-receipt');
  await expect(receipt.getByTestId('signed-content')).toContainText('**************1234');
  await expect(receipt.getByTestId('signed-content')).toContainText('¥520.00');
  await expect(receipt.getByTestId('signed-content')).not.toContainText('110101199001011234');
  await sign(office, 'sign-receipt', '张女士');
  await expect(office.getByTestId('notice')).toHaveText('已交还认领人');
  await expect(office.getByTestId('found-details')).toHaveAttribute('data-status', 'claimed');

  // The chain of custody, minute by minute, with who held it.
  const steps = office.getByTestId('custody-step');
  await expect(steps).toHaveCount(4);
  for (const [i, status] of ['with_finder', 'handing_over', 'at_desk', 'claimed'].entries()) {
    await expect(steps.nth(i)).toHaveAttribute('data-status', status);
    await expect(steps.nth(i)).toHaveAttribute('data-confirmed', 'true');
  }
  await expect(office.getByTestId('custody-holder')).toHaveText(['刘阿姨', '李客服', '张女士']);
  await expect(office.getByTestId('found-signature')).toHaveCount(3);
  await expect(office.getByTestId('claim-id')).toHaveText('**************1234');
  await expect(office.locator('body')).not.toContainText('110101199001011234');
  await expect(office.getByTestId('record-status')).toHaveAttribute('data-status', 'received', { timeout: 45_000 });
  await office.screenshot({ path: 'test-results/found-item-office.png', fullPage: true });

  // The office list shows it claimed.
  await office.getByTestId('back').click();
  await office.getByTestId('open-found-items').click();
  const row = office.getByTestId('office-found-item').filter({ hasText: description });
  await expect(row.getByTestId('found-row-status')).toHaveText('已认领');

  await desk.close();
  await phone.close();
  fs.rmSync(profile, { recursive: true, force: true });
});

test('unclaimed_item_goes_on_the_notice_board', async ({ browser }) => {
  const description = `棕色皮夹 ${tag()}`;
  const finder = await browser.newContext(h.PHONE);
  const cleaner = await finder.newPage();
  await h.signIn(cleaner, h.CLEANER);
  await register(cleaner, {
    description,
    category: 'wallet',
    area: '大堂休息区',
    witness: '王保安',
    lines: [
      { what: '现金', content: 'cash', amount: '80' },
      { what: '身份证 110101199001011234', content: 'id_document' },
    ],
  });
  await cleaner.getByTestId('hand-over-button').click();
  await expect(cleaner.getByTestId('record-status')).toHaveAttribute('data-status', 'received', { timeout: 45_000 });

  const desk = await browser.newContext(h.DESKTOP);
  const office = await desk.newPage();
  await h.signIn(office, h.CLERK);
  await openAtDesk(office, description);
  await office.getByTestId('confirm-receipt-button').click();
  await expect(office.getByTestId('found-details')).toHaveAttribute('data-status', 'at_desk');
  await expect(office.getByTestId('record-status')).toHaveAttribute('data-status', 'received', { timeout: 45_000 });

  // Today it is not on the notice yet.
  await office.getByTestId('back').click();
  await office.getByTestId('open-found-items').click();
  await office.getByTestId('open-notice').click();
  await expect(office.getByTestId('notice-board')).toBeVisible();
  await expect(office.getByTestId('notice-line').filter({ hasText: description })).toHaveCount(0);

  // Four days later, nobody has claimed it: it is on the notice, with nothing of its contents.
  await office.clock.setFixedTime(Date.now() + 4 * 86_400_000);
  await office.getByTestId('back').click();
  await office.getByTestId('open-notice').click();
  const line = office.getByTestId('notice-line').filter({ hasText: description });
  await expect(line).toHaveCount(1);
  await expect(line).toContainText('钱包');
  await expect(line).toContainText('A座 15楼');
  const notice = office.getByTestId('notice-board');
  for (const hidden of ['110101199001011234', '¥', '80.00', '刘阿姨', '王保安', '大堂休息区', '门后挂钩']) {
    await expect(notice).not.toContainText(hidden);
  }
  await expect(office.getByTestId('print-notice')).toBeVisible();
  await expect(notice).toContainText('3 天');
  await office.screenshot({ path: 'test-results/found-item-notice.png', fullPage: true });

  // The estate posts items after 7 days instead: its admin sets it (a notice later than
  // the valuables' keeping is refused first), and the clerk's app, reloaded, posts the
  // notice by it.
  const adminContext = await browser.newContext(h.DESKTOP);
  const admin = await adminContext.newPage();
  await h.signIn(admin, h.ADMIN);
  const periods = admin.locator('[data-testid="admin-estate"][data-estate="demo-estate"]');
  await expect(periods.getByTestId('found-notice-days')).toHaveValue('3');
  await periods.getByTestId('found-notice-days').fill('7');
  await periods.getByTestId('found-valuables-retention-days').fill('5');
  await periods.getByTestId('save-found-periods').click();
  await expect(periods.getByTestId('found-periods-message')).toHaveText('启事 1–60 天；保管 1–730 天，不短于启事');
  await periods.getByTestId('found-valuables-retention-days').fill('180');
  await periods.getByTestId('save-found-periods').click();
  await expect(periods.getByTestId('found-periods-message')).toHaveText('已保存，已连接的手机随即更新');
  await admin.screenshot({ path: 'test-results/found-item-periods.png', fullPage: true });
  try {
    await office.reload();
    await office.getByTestId('open-found-items').click();
    await office.getByTestId('open-notice').click();
    await expect(notice).toContainText('7 天');
    await expect(office.getByTestId('notice-line').filter({ hasText: description })).toHaveCount(0);
    // Eight days after it was found, it is.
    await office.clock.setFixedTime(Date.now() + 8 * 86_400_000);
    await office.getByTestId('back').click();
    await office.getByTestId('open-notice').click();
    await expect(office.getByTestId('notice-line').filter({ hasText: description })).toHaveCount(1);
  } finally {
    // The demo estate's default again, for the tests after this one.
    await periods.getByTestId('found-notice-days').fill('3');
    await periods.getByTestId('save-found-periods').click();
    await expect(periods.getByTestId('found-periods-message')).toHaveText('已保存，已连接的手机随即更新');
  }

  await adminContext.close();
  await desk.close();
  await finder.close();
});
