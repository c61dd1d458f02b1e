// A guard's finding becomes a work order: the guard records a broken light that needs a
// repair; the clerk opens the round, raises a work order from the finding and assigns it to
// the technician; the order appears on the technician's phone without a reload, the
// technician takes it and the repair record starts with the finding's details; the clerk
// sees under the finding that it was taken and where the repair stands.
const { test, expect } = require('@playwright/test');
const h = require('./helpers');

test('work_order_reaches_the_technician', async ({ browser }) => {
  // Names of this run, so that a rerun against the same server finds its own.
  const tag = String(Date.now() % 100000);
  const route = `工单测试巡逻 ${tag}`;
  const light = `消防通道灯不亮 ${tag}`;
  const leak = `厨房水管漏水 ${tag}`;
  // The technician's phone is signed in and waiting.
  const techPhone = await browser.newContext(h.SMALL_PHONE);
  const tech = await techPhone.newPage();
  await h.signIn(tech, h.TECH);
  await expect(tech.getByTestId('request-list')).toBeVisible();
  const before = await tech.getByTestId('request-item').count();

  // The guard's round: a light out that needs follow-up.
  const guardPhone = await browser.newContext(h.SMALL_PHONE);
  const guard = await guardPhone.newPage();
  await h.signIn(guard, h.GUARD);
  await h.startRound(guard, route);
  await h.addFinding(guard, { what: light, where: 'B2 车库东侧', severity: 'medium', followUp: true });
  await expect(guard.getByTestId('finding-item')).toHaveCount(1);
  await expect(guard.getByTestId('record-status')).toHaveAttribute('data-status', 'received');

  // The clerk opens the round and raises a work order from the finding.
  const office = await browser.newContext(h.DESKTOP);
  const clerk = await office.newPage();
  await h.signIn(clerk, h.CLERK);
  await h.officeItem(clerk, route).click();
  const followUp = clerk.getByTestId('follow-up-item').filter({ hasText: light });
  await expect(followUp.getByTestId('no-request')).toHaveText('尚未派发维修工单。');
  await followUp.getByTestId('raise-request').click();
  await expect(followUp.getByTestId('request-unit')).toHaveValue('B2 车库东侧');
  await expect(followUp.getByTestId('request-fault')).toHaveValue(light);
  await followUp.getByTestId('request-component').selectOption('lighting');
  await followUp.getByTestId('request-assignee').selectOption({ label: '陈师傅' });
  await followUp.getByTestId('create-request').click();
  await expect(clerk.getByTestId('notice')).toHaveText('维修工单已派发');
  await expect(followUp.getByTestId('raised-status')).toHaveText('待接单');
  await expect(followUp.getByTestId('raised-repair-status')).toHaveText('尚未开始');

  // It reaches the technician's phone as it is, no reload.
  await expect(tech.getByTestId('request-item')).toHaveCount(before + 1);
  const order = tech.getByTestId('request-item').filter({ hasText: light });
  await expect(order.getByTestId('request-item-status')).toHaveText('待接单');
  await order.click();
  await expect(tech.getByTestId('request-unit-shown')).toHaveText('B2 车库东侧');
  await expect(tech.getByTestId('request-source')).toContainText('来自巡逻发现');
  await tech.getByTestId('take-request').click();
  await expect(tech.getByTestId('notice')).toHaveText('已接单，维修记录已保存在本机');
  // The repair record starts from the order: the estimate form is next.
  await expect(tech.getByTestId('record-status')).toHaveAttribute('data-status', 'received');
  await expect(tech.getByTestId('record')).toContainText(light);
  await tech.getByTestId('back').click();
  await expect(order.getByTestId('request-item-status')).toHaveText('已接单');

  // The clerk sees under the finding that it was taken and where the repair stands.
  await clerk.reload();
  await h.officeItem(clerk, route).click();
  await expect(followUp.getByTestId('raised-status')).toHaveText('已接单');
  await expect(followUp.getByTestId('raised-repair-status')).toHaveText('已报修');
  await followUp.getByTestId('raised-request').click();
  await expect(clerk.getByTestId('taken-by')).toHaveText('陈师傅');
  await clerk.getByTestId('open-repair').click();
  await expect(clerk.getByTestId('record')).toContainText(light);
  await expect(clerk.getByTestId('open-request')).toHaveText('来自维修工单');

  // An owner calls: the clerk writes an order for the pool, and every technician gets it.
  await clerk.getByTestId('back').click();
  await clerk.getByTestId('open-new-request').click();
  await clerk.getByTestId('create-request').click();
  await expect(clerk.getByTestId('problems')).toBeVisible();
  await clerk.getByTestId('request-unit').fill('5-2-1101');
  await clerk.getByTestId('request-fault').fill(leak);
  await clerk.getByTestId('request-component').selectOption('water_pipe');
  await clerk.getByTestId('request-reported-by').fill('刘业主');
  await clerk.getByTestId('request-contact').fill('13700137000');
  await clerk.getByTestId('create-request').click();
  await expect(clerk.getByTestId('notice')).toHaveText('维修工单已派发');
  await expect(clerk.getByTestId('request-status')).toHaveText('待接单 · 维修池');
  const pooled = tech.getByTestId('request-item').filter({ hasText: leak });
  await expect(pooled.getByTestId('request-item-status')).toHaveText('待接单 · 维修池');

  await Promise.all([techPhone.close(), guardPhone.close(), office.close()]);
});
