// A technician's repair record, offline in the owner's unit: the quote, the owner's consent
// signed on the phone, a changed fee and a new signature, the work, the acceptance, the fee
// outcome; then the office sees it with every signature verified.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { test, expect } = require('@playwright/test');
const h = require('./helpers');

const UNIT = '3栋1单元1202';

async function fillPart(page, row, { name, quantity, price }) {
  const part = page.getByTestId('estimate-form').getByTestId('part-row').nth(row);
  await part.getByTestId('part-name').fill(name);
  await part.getByTestId('part-quantity').fill(quantity);
  await part.getByTestId('part-price').fill(price);
}

async function sign(page, name) {
  await page.getByTestId('signer-name').fill(name);
  await h.drawSignature(page);
  await page.getByTestId('confirm-signature').click();
  await expect(page.getByTestId('notice')).toHaveText('签名已保存');
}

test('repair_with_consent_and_acceptance_offline', async ({ browser }) => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-tech-'));
  let phone = await h.launchPhone(profile, h.SMALL_PHONE);
  let tech = phone.pages()[0] || (await phone.newPage());
  await h.signIn(tech, h.TECH);
  await expect(tech.getByTestId('start-repair')).toHaveText('新建维修记录');
  await h.waitForServiceWorker(tech);
  await expect(tech.getByTestId('connection-status')).toHaveAttribute('data-phase', 'online');

  // In the owner's flat, with no network.
  await phone.setOffline(true);
  await expect(tech.getByTestId('connection-status')).toHaveAttribute('data-phase', 'offline');
  await tech.getByTestId('repair-unit-input').fill(UNIT);
  await tech.getByTestId('reported-by-input').fill('王女士');
  await tech.getByTestId('contact-input').fill('13800000000');
  await tech.getByTestId('fault-input').fill('入户门锁打不开');
  await tech.getByTestId('component-select').selectOption('door_lock');
  await tech.getByTestId('model-input').fill('C级锁芯 KX-200');
  await tech.getByTestId('start-repair').click();
  await expect(tech.getByTestId('notice')).toHaveText('维修记录已保存在本机');
  await expect(tech.getByTestId('repair-status')).toHaveAttribute('data-status', 'reported');

  // The quote: a price that is not an amount is refused with the reason.
  await tech.getByTestId('cause-input').fill('锁芯磨损卡死');
  await tech.getByTestId('method-input').fill('更换锁芯');
  await fillPart(tech, 0, { name: 'C级锁芯', quantity: '1', price: '一百二' });
  await tech.getByTestId('labour-input').fill('50');
  await tech.getByTestId('save-estimate').click();
  await expect(tech.getByTestId('problems')).toContainText('单价');
  await fillPart(tech, 0, { name: 'C级锁芯', quantity: '1', price: '120' });
  await expect(tech.getByTestId('estimate-total')).toHaveText('¥170.00');
  await tech.getByTestId('save-estimate').click();
  await expect(tech.getByTestId('notice')).toHaveText('报价已保存');
  await expect(tech.getByTestId('repair-status')).toHaveAttribute('data-status', 'explained');

  // The owner reads what she agrees to, and signs; an empty pad is refused.
  await expect(tech.getByTestId('signed-content')).toContainText('锁芯磨损卡死');
  await expect(tech.getByTestId('signed-fee')).toHaveText('¥170.00');
  await tech.getByTestId('signer-name').fill('王芳');
  await tech.getByTestId('confirm-signature').click();
  await expect(tech.getByTestId('problems')).toContainText('签名为空');
  await h.drawSignature(tech);
  await tech.getByTestId('confirm-signature').click();
  await expect(tech.getByTestId('notice')).toHaveText('签名已保存');
  await expect(tech.getByTestId('repair-status')).toHaveAttribute('data-status', 'consented');

  // The cylinder costs more than quoted: a new revision, and the app asks her to sign again.
  await tech.getByTestId('revise-estimate').click();
  await fillPart(tech, 0, { name: 'C级锁芯', quantity: '1', price: '180' });
  await tech.getByTestId('save-estimate').click();
  await expect(tech.getByTestId('notice')).toHaveText('报价已保存');
  await expect(tech.getByTestId('repair-status')).toHaveAttribute('data-status', 'explained');
  await expect(tech.getByTestId('consent-outdated')).toBeVisible();
  await expect(tech.getByTestId('signed-fee')).toHaveText('¥230.00');
  await expect(tech.getByTestId('work-form')).toHaveCount(0);
  await sign(tech, '王芳');
  await expect(tech.getByTestId('repair-status')).toHaveAttribute('data-status', 'consented');
  await expect(tech.getByTestId('estimate-item')).toHaveCount(2);
  await expect(tech.locator('[data-testid=estimate-item][data-current=true]')).toHaveAttribute('data-consented', 'true');

  // The work, then her acceptance, then the fee.
  await tech.getByTestId('work-done-input').fill('更换锁芯并调试，钥匙三把交业主');
  // Time as people type it ("40分钟") is refused with the reason, never saved as 0 minutes.
  await tech.getByTestId('work-minutes-input').fill('40分钟');
  await tech.getByTestId('save-work').click();
  await expect(tech.getByTestId('problems')).toContainText('用时');
  await tech.getByTestId('work-minutes-input').fill('40');
  await tech.getByTestId('save-work').click();
  await expect(tech.getByTestId('notice')).toHaveText('维修内容已保存');
  await expect(tech.getByTestId('repair-status')).toHaveAttribute('data-status', 'in_progress');
  await expect(tech.getByTestId('sign-step')).toHaveAttribute('data-purpose', 'repair_acceptance');
  await expect(tech.getByTestId('signed-content')).toContainText('更换锁芯并调试');
  await sign(tech, '王芳');
  await expect(tech.getByTestId('repair-status')).toHaveAttribute('data-status', 'accepted');
  await tech.getByTestId('outcome-select').selectOption('charged');
  await tech.getByTestId('save-outcome').click();
  await expect(tech.getByTestId('notice')).toHaveText('维修记录已结束');
  await expect(tech.getByTestId('repair-status')).toHaveAttribute('data-status', 'closed');
  await expect(tech.getByTestId('signature-item')).toHaveCount(3);
  // The phone checks the signatures it took with its own key.
  await expect(tech.locator('[data-testid=signature-check][data-verified=true]')).toHaveCount(3);
  await expect(tech.getByTestId('record-status')).toHaveAttribute('data-status', 'local');
  await tech.screenshot({ path: 'test-results/repair-closed-360.png', fullPage: true });

  // The battery dies; the phone comes back with no network: everything is there.
  await phone.close();
  phone = await h.launchPhone(profile, h.SMALL_PHONE);
  await phone.setOffline(true);
  tech = phone.pages()[0] || (await phone.newPage());
  await tech.goto('/');
  const item = tech.getByTestId('repair-item').filter({ hasText: UNIT });
  await expect(item).toHaveCount(1);
  await item.click();
  await expect(tech.getByTestId('repair-status')).toHaveAttribute('data-status', 'closed');
  await expect(tech.getByTestId('signature-item')).toHaveCount(3);
  await expect(tech.getByTestId('signature-drawing')).toHaveCount(3);
  await expect(tech.getByTestId('work-item')).toHaveCount(1);

  // Back online, it syncs by itself.
  await phone.setOffline(false);
  await expect(tech.getByTestId('record-status')).toHaveAttribute('data-status', 'received', { timeout: 45_000 });

  // The office sees it beside the patrol logs, and every signature checks out.
  const desk = await browser.newContext(h.DESKTOP);
  const office = await desk.newPage();
  await h.signIn(office, h.CLERK);
  const row = office.getByTestId('office-item').filter({ hasText: UNIT });
  await expect(row).toHaveCount(1);
  await expect(office.getByTestId('office-count')).toContainText('已全部显示');
  await expect(office.getByTestId('office-load-more')).toHaveCount(0);
  await expect(row.getByTestId('office-fee')).toContainText('¥230.00');
  await row.click();
  await expect(office.getByTestId('repair-status')).toHaveAttribute('data-status', 'closed');
  await expect(office.getByTestId('signature-item')).toHaveCount(3);
  await expect(office.locator('[data-testid=signature-check][data-verified=true]')).toHaveCount(3);
  await expect(office.getByTestId('outcome-value')).toHaveText('业主付费');
  await office.getByTestId('remark-input').fill('业主已付款，收据编号 0042');
  await office.getByTestId('add-remark').click();
  await expect(office.getByTestId('remark-item')).toHaveText(/收据编号 0042/);
  await expect(office.getByTestId('record-status')).toHaveAttribute('data-status', 'received', { timeout: 45_000 });
  await office.screenshot({ path: 'test-results/repair-office.png', fullPage: true });

  // The check is real: with a wrong key for the phone, the office is told it does not verify.
  // (Another browser: one tab of the app per browser works with the records.)
  const other = await browser.newContext(h.DESKTOP);
  const forged = await other.newPage();
  await forged.route('**/api/device-keys', async (route) => {
    const keys = await (await route.fetch()).json();
    const wrong = keys.map((k) => ({ ...k, public_key_hex: k.public_key_hex.replace(/^./, (c) => (c === '0' ? '1' : '0')) }));
    await route.fulfill({ json: wrong });
  });
  await h.signIn(forged, h.CLERK);
  await forged.getByTestId('office-item').filter({ hasText: UNIT }).click();
  await expect(forged.locator('[data-testid=signature-check][data-verified=false]')).toHaveCount(3);
  await expect(forged.getByTestId('signature-check').first()).toContainText('签名无法用本设备的密钥验证');

  await other.close();
  await desk.close();
  await phone.close();
  fs.rmSync(profile, { recursive: true, force: true });
});
