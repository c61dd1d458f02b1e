// The gate: the office imports the registry and issues a slip the owner approved by phone;
// the guard's phone receives both, and with no network finds the slip, is warned that the
// applicant is a tenant whose lease is ending, lets part of the goods out, holds an extra
// item, and cannot let out more than the slip allows. Back online, the office sees the check.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { test, expect } = require('@playwright/test');
const h = require('./helpers');

function spreadsheetDate(days) {
  const d = new Date(Date.now() + days * 24 * 60 * 60 * 1000);
  return `${d.getFullYear()}/${d.getMonth() + 1}/${d.getDate()}`;
}

const REGISTRY = [
  '楼栋,单元,房号,类型,业主姓名,业主电话,业主工作单位,业主证件号,租户姓名,租户电话,租期开始,租期结束',
  `8,1,802,出租,王建国,13800138000,市第一医院,110101198001011234,李明,13900139000,${spreadsheetDate(-355)},${spreadsheetDate(10)}`,
].join('\n');

test('release_goods_offline', async ({ browser }) => {
  const office = await browser.newContext(h.DESKTOP);
  const clerk = await office.newPage();
  await h.signIn(clerk, h.CLERK);
  await clerk.getByTestId('open-registry').click();
  await clerk.getByTestId('registry-file').setInputFiles({ name: 'registry.csv', mimeType: 'text/csv', buffer: Buffer.from(REGISTRY) });
  await clerk.getByTestId('import-confirm').click();
  await expect(clerk.getByTestId('notice')).toHaveText('业主资料已导入并保存');
  await clerk.getByTestId('registry-search').fill('8-1-802');
  await expect(clerk.getByTestId('unit')).toHaveCount(1);

  // The tenant asks for a slip at the desk; the registry entry shows beside it.
  await clerk.getByTestId('back').click();
  await clerk.getByTestId('open-slips').click();
  await clerk.getByTestId('slip-unit-input').fill('8-1-802');
  await expect(clerk.getByTestId('slip-registry')).toContainText('王建国');
  await clerk.getByTestId('applicant-name').fill('李明');
  await clerk.getByTestId('item-what').first().fill('办公桌');
  await clerk.getByTestId('item-quantity').first().fill('5');
  await clerk.getByTestId('add-item').click();
  await clerk.getByTestId('item-what').nth(1).fill('电脑');
  await clerk.getByTestId('item-quantity').nth(1).fill('2');
  await clerk.getByTestId('save-slip').click();
  await expect(clerk.getByTestId('notice')).toHaveText('放行条已保存：请业主确认后才能放行');
  await expect(clerk.getByTestId('slip')).toHaveAttribute('data-status', 'awaiting_approval');
  await expect(clerk.getByTestId('registry-warning')).toContainText(['注意：申请人是租户，租期 10 天后结束', '申请人是租户：须有业主确认']);
  // The clerk calls the owner on the registered number and checks who answers.
  await expect(clerk.getByTestId('approver-name')).toHaveValue('王建国');
  await expect(clerk.getByTestId('approver-phone')).toHaveValue('13800138000');
  await clerk.getByTestId('save-approval').click();
  await expect(clerk.getByTestId('problems')).toContainText('核对项目：必填');
  await clerk.getByTestId('identity-id_number').check();
  await clerk.getByTestId('identity-employer').check();
  await clerk.getByTestId('save-approval').click();
  await expect(clerk.getByTestId('notice')).toHaveText('业主确认已保存，放行条生效');
  await expect(clerk.getByTestId('slip')).toHaveAttribute('data-status', 'issued');
  const number = await clerk.getByTestId('slip-number').textContent();
  await expect(clerk.getByTestId('unsynced-panel')).toHaveCount(0);

  // The guard's phone receives the registry and the slip while online.
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-gate-'));
  let phone = await h.launchPhone(profile, h.SMALL_PHONE);
  let guard = phone.pages()[0] || (await phone.newPage());
  await h.signIn(guard, h.GUARD);
  await h.waitForServiceWorker(guard);
  await guard.getByTestId('open-slips').click();
  await guard.getByTestId('slip-search').fill(number);
  await expect(guard.getByTestId('slip-item')).toHaveCount(1);
  await guard.getByTestId('back').click();
  await guard.getByTestId('open-registry').click();
  await guard.getByTestId('registry-search').fill('802');
  await expect(guard.getByTestId('unit')).toHaveCount(1);

  // Moving day, no network at the gate.
  await phone.close();
  phone = await h.launchPhone(profile, h.SMALL_PHONE);
  await phone.setOffline(true);
  guard = phone.pages()[0] || (await phone.newPage());
  await guard.goto('/');
  await guard.getByTestId('open-slips').click();
  await guard.getByTestId('slip-search').fill(number.slice(0, 5));
  await expect(guard.getByTestId('slip-item')).toHaveCount(1);
  await guard.getByTestId('slip-search').fill('8-1-802');
  await expect(guard.getByTestId('slip-item')).toHaveCount(1);
  await guard.getByTestId('slip-item').click();
  await expect(guard.getByTestId('slip')).toHaveAttribute('data-status', 'issued');
  await expect(guard.getByTestId('registry-warning')).toContainText(['注意：申请人是租户，租期 10 天后结束', '申请人是租户：须有业主确认']);
  await expect(guard.getByTestId('approval')).toContainText('王建国');

  // 3 of the 5 desks and both computers go; a chair the slip does not list is held.
  // Every count starts empty: the guard counts each item.
  await expect(guard.locator('[data-testid=release-qty]').first()).toHaveValue('');
  await guard.locator('[data-testid=release-qty]').first().fill('3');
  await guard.locator('[data-testid=release-qty]').nth(1).fill('2');
  await guard.getByTestId('add-held').click();
  await guard.getByTestId('held-what').fill('椅子');
  await guard.getByTestId('carrier-name').fill('张师傅');
  await guard.getByTestId('carrier-id-input').fill('440101199001011234');
  await guard.getByTestId('plate').fill('粤B12345');
  await guard.getByTestId('save-check').click();
  // Every problem at once: no reason for holding goods back, and the guard has not signed.
  await expect(guard.getByTestId('problems')).toContainText('原因');
  await expect(guard.getByTestId('problems')).toContainText('签名');
  await guard.getByTestId('check-reason').fill('余下的办公桌明天搬；椅子不在放行条上');
  await h.drawSignature(guard);
  await guard.getByTestId('save-check').click();
  await expect(guard.getByTestId('notice')).toHaveText('放行记录已保存在本机');
  await expect(guard.getByTestId('slip')).toHaveAttribute('data-status', 'partly_released');
  await expect(guard.getByTestId('remaining')).toHaveText(['2', '0']);
  await expect(guard.getByTestId('check')).toHaveAttribute('data-decision', 'partly_released');
  await expect(guard.getByTestId('check-held')).toContainText('椅子 ×1');
  await expect(guard.getByTestId('carrier-id')).toHaveText('…1234');
  await expect(guard.getByTestId('check-signature')).toContainText('保安签名');
  // Three more desks than the two left: refused on the phone, nothing saved.
  await guard.locator('[data-testid=release-qty]').first().fill('3');
  await guard.getByTestId('carrier-name').fill('张师傅');
  await guard.getByTestId('carrier-id-input').fill('440101199001011234');
  await guard.getByTestId('save-check').click();
  await expect(guard.getByTestId('problems')).toContainText('超过放行条上的数量');
  await expect(guard.getByTestId('check')).toHaveCount(1);
  await guard.screenshot({ path: 'test-results/gate-check-360.png', fullPage: true });

  // Back online, the check reaches the office's register.
  await phone.close();
  phone = await h.launchPhone(profile, h.SMALL_PHONE);
  guard = phone.pages()[0] || (await phone.newPage());
  await guard.goto('/');
  await expect(guard.getByTestId('connection-status')).toHaveAttribute('data-phase', 'online');
  await expect(guard.getByTestId('unsynced-panel')).toHaveCount(0);
  await clerk.getByTestId('back').click();
  await clerk.reload();
  const item = clerk.getByTestId('office-item').filter({ hasText: '8-1-802' }).filter({ hasText: '放行条' });
  await item.click();
  await expect(clerk.getByTestId('check')).toHaveAttribute('data-decision', 'partly_released');
  await expect(clerk.getByTestId('carrier-id')).toHaveText('440101199001011234');
  await expect(clerk.getByTestId('check-released')).toContainText('办公桌 ×3');
  await expect(clerk.getByTestId('check-signature')).toBeVisible();

  // The goods release register: the check, found by unit, exported for a spreadsheet.
  await clerk.getByTestId('back').click();
  await clerk.getByTestId('open-register').click();
  await clerk.getByTestId('register-unit').fill('8-1-802');
  const row = clerk.getByTestId('register-row');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('办公桌 ×3、电脑 ×2');
  await expect(row).toContainText('椅子 ×1');
  await expect(row).toContainText(number);
  await clerk.getByTestId('register-unit').fill('9-9-909');
  await expect(row).toHaveCount(0);
  await clerk.getByTestId('register-unit').fill('8-1-802');
  const download = clerk.waitForEvent('download');
  await clerk.getByTestId('register-export').click();
  const file = await (await download).path();
  const csv = fs.readFileSync(file, 'utf8');
  expect(csv.startsWith('\ufeff日期时间,房号,放行条号,申请人,搬运人,证件号,车牌,放行物品,扣留物品,结果,原因,值班保安')).toBe(true);
  expect(csv).toContain(`8-1-802,${number},李明,张师傅,440101199001011234,粤B12345,办公桌 ×3、电脑 ×2,椅子 ×1,部分放行`);
  await clerk.screenshot({ path: 'test-results/register-office.png', fullPage: true });
  await phone.close();
  await office.close();
});

// The owner comes to the desk: the clerk checks their ID, the owner reads the slip and signs
// it on the office's screen; the slip is issued with the owner's signature on it.
test('owner_signs_the_slip_at_the_desk', async ({ browser }) => {
  const office = await browser.newContext(h.DESKTOP);
  const clerk = await office.newPage();
  await h.signIn(clerk, h.CLERK);
  await clerk.getByTestId('open-slips').click();
  await clerk.getByTestId('slip-unit-input').fill('6-2-601');
  await clerk.getByTestId('applicant-name').fill('周业主');
  await clerk.getByTestId('applicant-role').selectOption('owner');
  await clerk.getByTestId('item-what').first().fill('钢琴');
  await clerk.getByTestId('item-quantity').first().fill('1');
  await clerk.getByTestId('save-slip').click();
  await expect(clerk.getByTestId('slip')).toHaveAttribute('data-status', 'awaiting_approval');

  await clerk.getByTestId('approval-method').selectOption('in_person');
  await clerk.getByTestId('approver-name').fill('周业主');
  await clerk.getByTestId('approver-phone').fill('');
  await clerk.getByTestId('identity-id_number').check();
  // Not signed yet: refused with the reason, nothing saved.
  await clerk.getByTestId('save-approval').click();
  await expect(clerk.getByTestId('problems')).toContainText('签名为空');
  await expect(clerk.getByTestId('slip')).toHaveAttribute('data-status', 'awaiting_approval');
  await h.drawSignature(clerk);
  await clerk.getByTestId('save-approval').click();
  await expect(clerk.getByTestId('notice')).toHaveText('业主确认已保存，放行条生效');
  await expect(clerk.getByTestId('slip')).toHaveAttribute('data-status', 'issued');
  await expect(clerk.getByTestId('approval')).toHaveAttribute('data-method', 'in_person');
  await expect(clerk.getByTestId('approval')).toContainText('业主到场签字');
  await expect(clerk.getByTestId('approval-signature')).toBeVisible();
  await expect(clerk.getByTestId('record-status')).toHaveAttribute('data-status', 'received');
  await office.close();
});
