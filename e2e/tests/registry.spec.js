// The owner/tenant registry at the gate: the office imports a spreadsheet's CSV file (a file
// with a bad row imports nothing and says where); every guard's phone of the estate receives
// the registry and finds a unit or a name with no network, a tenant's lease pointed out.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { test, expect } = require('@playwright/test');
const h = require('./helpers');

/** The local date `days` from today, as a spreadsheet writes it (2026/3/1). */
function spreadsheetDate(days) {
  const d = new Date(Date.now() + days * 24 * 60 * 60 * 1000);
  return `${d.getFullYear()}/${d.getMonth() + 1}/${d.getDate()}`;
}

const HEADER = '楼栋,单元,房号,类型,公司名称,业主姓名,业主电话,业主工作单位,业主证件号,租户姓名,租户电话,租户证件号,租期开始,租期结束,备注';

test('registry_reaches_the_gate_offline', async ({ browser }) => {
  const office = await browser.newContext(h.DESKTOP);
  const clerk = await office.newPage();
  await h.signIn(clerk, h.CLERK);
  await clerk.getByTestId('open-registry').click();
  await expect(clerk.getByTestId('registry-count')).toHaveText('本机还没有业主资料：联网后会自动下载');

  // A file with bad rows imports nothing, and says which rows and columns.
  const bad = [
    HEADER,
    '3,1,502,出租,,王建国,13800138000,市第一医院,110101198001011234,,,,,,',
    '3,1,503,自住,,陈芳,1.38E+10,,,,,,,,',
  ].join('\n');
  await clerk.getByTestId('registry-file').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
  await expect(clerk.getByTestId('import-refused')).toContainText('文件有 2 处问题，未导入任何内容');
  await expect(clerk.getByTestId('import-problem')).toHaveText([
    '第 2 行「租户姓名」：必填',
    '第 3 行「业主电话」：不是有效的电话号码（表格是否把号码变成了 1.38E+10？）',
  ]);
  await expect(clerk.getByTestId('import-confirm')).toHaveCount(0);

  // The corrected file ("CSV UTF-8" from a spreadsheet, with its byte-order mark).
  const good = [
    HEADER,
    `3,1,502,出租,,王建国,13800138000,市第一医院,110101198001011234,李明,13900139000,44010119900101567X,${spreadsheetDate(-355)},${spreadsheetDate(10)},押金已收`,
    '3,1,502,出租,,王建国,13800138000,市第一医院,110101198001011234,,,,,,',
    '5,2,101,自住,,陈芳,13600136000,,,,,,,,',
    '12,,1201,公司,"宏达贸易有限公司",,,,,,,,,,',
  ].join('\r\n');
  await clerk.getByTestId('registry-file').setInputFiles({ name: 'registry.csv', mimeType: 'text/csv', buffer: Buffer.from('\ufeff' + good) });
  await expect(clerk.getByTestId('import-plan')).toHaveText('文件共 4 行：新增或变更 3 户，0 户与现有资料相同');
  await expect(clerk.getByTestId('import-ignored')).toContainText('备注');
  await clerk.getByTestId('import-confirm').click();
  await expect(clerk.getByTestId('notice')).toHaveText('业主资料已导入并保存');
  await expect(clerk.getByTestId('registry-count')).toHaveText('共 3 户（本机离线可查）');
  await expect(clerk.getByTestId('unsynced-panel')).toHaveCount(0);
  await clerk.screenshot({ path: 'test-results/registry-office.png', fullPage: true });

  // The owner of 5-2-101 lets the flat: the clerk changes the unit with the form. A let unit
  // without a tenant is refused with the reason.
  await clerk.getByTestId('registry-search').fill('5-2-101');
  await clerk.getByTestId('unit').getByTestId('edit-unit').click();
  await expect(clerk.getByTestId('unit-room')).toHaveValue('101');
  await clerk.getByTestId('unit-occupancy').selectOption('let');
  await clerk.getByTestId('save-unit').click();
  await expect(clerk.getByTestId('problems')).toContainText('租户：必填');
  await clerk.getByTestId('add-tenant').click();
  await clerk.getByTestId('tenant-name').fill('赵丽');
  await clerk.getByTestId('tenant-id').fill('440101199201012468');
  await clerk.getByTestId('lease-start').fill('2026-01-01');
  await clerk.getByTestId('lease-end').fill('2030-12-31');
  await clerk.getByTestId('save-unit').click();
  await expect(clerk.getByTestId('notice')).toHaveText('房屋资料已保存');
  await expect(clerk.getByTestId('unit-form')).toHaveCount(0);
  await expect(clerk.getByTestId('unit').getByTestId('occupancy')).toHaveText('出租');
  await expect(clerk.getByTestId('unit').getByTestId('tenant')).toContainText('赵丽');
  await expect(clerk.getByTestId('registry-count')).toContainText('共 3 户');
  await expect(clerk.getByTestId('unsynced-panel')).toHaveCount(0);

  // The guard's phone receives it as soon as it is online.
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-registry-'));
  let phone = await h.launchPhone(profile, h.SMALL_PHONE);
  let guard = phone.pages()[0] || (await phone.newPage());
  await h.signIn(guard, h.GUARD);
  await h.waitForServiceWorker(guard);
  await guard.getByTestId('open-registry').click();
  await expect(guard.getByTestId('registry-count')).toHaveText('共 3 户（本机离线可查）');

  // At the gate the phone has no network, and was restarted.
  await phone.close();
  phone = await h.launchPhone(profile, h.SMALL_PHONE);
  await phone.setOffline(true);
  guard = phone.pages()[0] || (await phone.newPage());
  await guard.goto('/');
  await guard.getByTestId('open-registry').click();
  await guard.getByTestId('registry-search').fill('502');
  const unit = guard.getByTestId('unit');
  await expect(unit).toHaveCount(1);
  await expect(unit).toHaveAttribute('data-unit', '3-1-502');
  await expect(unit.getByTestId('occupancy')).toHaveText('出租');
  await expect(unit.getByTestId('owner')).toContainText('王建国');
  await expect(unit.getByTestId('tenant')).toContainText('李明');
  await expect(unit.getByTestId('lease-warning')).toHaveText('注意：租期 10 天后结束');
  await expect(unit.getByTestId('id-last4')).toHaveText(['1234', '567X']);
  // The ID number itself never reached the phone.
  await expect(guard.locator('body')).not.toContainText('110101198001011234');
  await guard.screenshot({ path: 'test-results/registry-gate-360.png', fullPage: true });
  // By name, and by a company's name.
  await guard.getByTestId('registry-search').fill('陈芳');
  await expect(unit).toHaveAttribute('data-unit', '5-2-101');
  // As the clerk changed it: let to 赵丽 until 2030, only the last four of her ID.
  await expect(unit.getByTestId('occupancy')).toHaveText('出租');
  await expect(unit.getByTestId('tenant')).toContainText('赵丽');
  await expect(unit.getByTestId('lease')).toHaveText('2026-01-01 – 2030-12-31');
  await expect(unit.getByTestId('lease-warning')).toHaveCount(0);
  await expect(unit.getByTestId('id-last4')).toHaveText('2468');
  await guard.getByTestId('registry-search').fill('宏达');
  await expect(unit).toHaveAttribute('data-unit', '12-1201');
  await expect(unit.getByTestId('occupancy')).toHaveText('公司');
  await phone.close();
  await office.close();
});
