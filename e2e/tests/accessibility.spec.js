// Every screen a guard, a clerk and an admin use, checked with axe (WCAG 2 A and AA rules):
// no serious or critical violation, and one h1 per screen, in both languages.
const { test, expect } = require('@playwright/test');
const AxeBuilder = require('@axe-core/playwright').default;
const h = require('./helpers');

async function check(page, screen) {
  await expect(page.locator('h1')).toHaveCount(1);
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const bad = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${screen}: ${v.id} (${v.impact}) ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  expect(bad, bad.join('\n')).toEqual([]);
}

test('screens_have_no_serious_accessibility_violations', async ({ browser }) => {
  const phone = await browser.newContext(h.SMALL_PHONE);
  const guard = await phone.newPage();
  await guard.goto('/');
  await expect(guard.getByTestId('sign-in')).toBeVisible();
  await check(guard, 'sign-in');
  await h.signIn(guard, h.GUARD);
  await check(guard, 'guard home');
  await guard.getByTestId('lang-switch').click();
  await check(guard, 'guard home (en)');
  await guard.getByTestId('lang-switch').click();
  await h.startRound(guard, `无障碍检查 ${Date.now()}`);
  await check(guard, 'round');
  await guard.getByTestId('end-round').click();
  await check(guard, 'round, ending');
  await guard.getByTestId('cancel-end-round').click();
  await guard.getByTestId('back').click();
  await guard.getByTestId('open-slips').click();
  await check(guard, 'gate slips');
  await guard.getByTestId('back').click();
  await guard.getByTestId('open-registry').click();
  await check(guard, 'registry');
  await guard.getByTestId('back').click();
  await guard.getByTestId('account').click();
  await check(guard, 'account');
  await phone.close();

  const desk = await browser.newContext(h.DESKTOP);
  const clerk = await desk.newPage();
  await h.signIn(clerk, h.CLERK);
  await expect(clerk.getByTestId('office-item').first()).toBeVisible();
  await check(clerk, 'office list');
  await clerk.getByTestId('office-item').first().click();
  await expect(clerk.getByTestId('record')).toBeVisible();
  await check(clerk, 'office record');
  await clerk.getByTestId('back').click();
  await clerk.getByTestId('open-routes').click();
  await check(clerk, 'routes');
  await clerk.getByTestId('back').click();
  await clerk.getByTestId('open-register').click();
  await check(clerk, 'register');
  await clerk.getByTestId('back').click();
  await clerk.getByTestId('open-new-request').click();
  await check(clerk, 'new work order');
  await desk.close();

  const adminDesk = await browser.newContext(h.DESKTOP);
  const admin = await adminDesk.newPage();
  await h.signIn(admin, h.ADMIN);
  await check(admin, 'admin');
  await adminDesk.close();
});

test('found_item_screens_have_no_serious_accessibility_violations', async ({ browser }) => {
  const phone = await browser.newContext(h.SMALL_PHONE);
  const cleaner = await phone.newPage();
  await h.signIn(cleaner, h.CLEANER);
  await expect(cleaner.getByTestId('register-found-form')).toBeVisible();
  await check(cleaner, 'cleaner home');
  await cleaner.getByTestId('found-description').fill(`无障碍检查 钱包 ${Date.now().toString(26).replace(/\d/g, (d) => 'qrstuvwxyz'[d])}`);
  await cleaner.getByTestId('category-wallet').click();
  await cleaner.getByTestId('found-area').fill('大堂');
  await cleaner.getByTestId('register-found').click();
  await expect(cleaner.getByTestId('count-form')).toBeVisible();
  await cleaner.getByTestId('line-content').first().selectOption('cash');
  await check(cleaner, 'found item, count');
  await cleaner.getByTestId('lang-switch').click();
  await check(cleaner, 'found item, count (en)');
  await cleaner.getByTestId('lang-switch').click();
  await phone.close();

  const desk = await browser.newContext(h.DESKTOP);
  const clerk = await desk.newPage();
  await h.signIn(clerk, h.CLERK);
  await clerk.getByTestId('open-found-items').click();
  await expect(clerk.getByTestId('office-found-list')).toBeVisible();
  await check(clerk, 'found items');
  await clerk.getByTestId('open-notice').click();
  await expect(clerk.getByTestId('notice-board')).toBeVisible();
  await check(clerk, 'notice');
  await desk.close();
});
