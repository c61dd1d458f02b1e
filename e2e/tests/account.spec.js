// An admin adds a guard from the app; the guard sees their devices and changes the password.
const { test, expect } = require('@playwright/test');
const h = require('./helpers');

test('admin_adds_a_guard_who_lists_devices_and_changes_password', async ({ browser }) => {
  const desk = await browser.newContext(h.DESKTOP);
  const admin = await desk.newPage();
  await h.signIn(admin, h.ADMIN);
  await admin.getByTestId('new-username').fill('night-guard');
  await admin.getByTestId('new-display-name').fill('夜班保安');
  await admin.getByTestId('new-password-admin').fill('short');
  await admin.getByTestId('create-user').click();
  await expect(admin.getByTestId('admin-message')).toContainText('至少10个字符');
  // A new estate, which the admin joins and can put the new guard in.
  await admin.getByTestId('new-estate-id').fill('harbour-view');
  await admin.getByTestId('new-estate-name').fill('海景苑');
  await admin.getByTestId('create-estate').click();
  await expect(admin.getByTestId('estate-message')).toHaveText('项目已添加，您已成为成员');
  await admin.getByTestId('new-password-admin').fill('night-guard-2026');
  await admin.getByTestId('new-role').selectOption('guard');
  await admin.getByTestId('new-estate').selectOption('harbour-view');
  await admin.getByTestId('create-user').click();
  await expect(admin.getByTestId('admin-message')).toHaveText('用户已添加');
  await expect(admin.locator('[data-testid="admin-user"][data-username="night-guard"]')).toHaveCount(1);
  // Roles in the admin's words, not their codes.
  await expect(admin.locator('[data-testid="admin-user"][data-username="night-guard"]').getByTestId('admin-user-role')).toHaveText('保安');
  await expect(admin.getByTestId('admin-user-role').filter({ hasText: /^(guard|office|technician|admin)$/ })).toHaveCount(0);
  // The new estate keeps finished slips and work orders on phones 30 days until its admin
  // says otherwise; a number out of range is refused with what to type.
  const harbour = admin.locator('[data-testid="admin-estate"][data-estate="harbour-view"]');
  await expect(harbour.getByTestId('retention-days')).toHaveValue('30');
  await harbour.getByTestId('retention-days').fill('0');
  await harbour.getByTestId('save-retention').click();
  await expect(harbour.getByTestId('retention-message')).toHaveText('请输入 1 至 365 之间的整数天数');
  await harbour.getByTestId('retention-days').fill('7');
  await harbour.getByTestId('save-retention').click();
  await expect(harbour.getByTestId('retention-message')).toHaveText('已保存，已连接的手机随即更新');
  await admin.reload();
  await expect(admin.locator('[data-testid="admin-estate"][data-estate="harbour-view"]').getByTestId('retention-days')).toHaveValue('7');

  const phone = await browser.newContext(h.PHONE);
  const guard = await phone.newPage();
  await h.signIn(guard, { username: 'night-guard', password: 'night-guard-2026' });
  await expect(guard.getByTestId('user-name')).toHaveText('夜班保安');
  await expect(guard.locator('.whoami')).toContainText('海景苑');
  await guard.getByTestId('account').click();
  await expect(guard.getByTestId('my-device')).toHaveCount(1);
  await expect(guard.getByTestId('session-count')).toHaveText('1');
  // The guard names this phone; the admin's list shows the name and the same short ID.
  await expect(guard.getByTestId('device-name')).toContainText('Linux');
  await guard.getByTestId('device-name-input').fill('东门岗亭手机');
  await guard.getByTestId('save-device-name').click();
  await expect(guard.getByTestId('device-name-message')).toContainText('名称已保存');
  const shortId = (await guard.getByTestId('device-short-id').textContent()).trim();
  expect(shortId).toMatch(/^dev-[0-9a-f]{8}$/);
  await admin.reload();
  const named = admin.locator('[data-testid="admin-device"][data-username="night-guard"]');
  await expect(named.getByTestId('admin-device-name')).toHaveText('东门岗亭手机');
  await expect(named.getByTestId('admin-device-short-id')).toHaveText(shortId);

  await guard.getByTestId('current-password').fill('wrong-password');
  await guard.getByTestId('new-password').fill('a-better-password-1');
  await guard.getByTestId('change-password').click();
  await expect(guard.getByTestId('password-message')).toHaveText('当前密码不正确');
  await guard.getByTestId('current-password').fill('night-guard-2026');
  await guard.getByTestId('change-password').click();
  await expect(guard.getByTestId('password-message')).toContainText('密码已修改');

  // The old password no longer signs in; the new one does.
  const other = await browser.newContext(h.PHONE);
  const page = await other.newPage();
  await page.goto('/');
  await page.getByTestId('username').fill('night-guard');
  await page.getByTestId('password').fill('night-guard-2026');
  await page.getByTestId('sign-in').click();
  await expect(page.getByTestId('sign-in-error')).toHaveText('用户名或密码错误');
  await page.getByTestId('password').fill('a-better-password-1');
  await page.getByTestId('sign-in').click();
  await expect(page.getByTestId('sign-out')).toBeVisible();
  await other.close();
  await phone.close();
  await desk.close();
});

test('admin_cannot_lock_themselves_out', async ({ browser }) => {
  const desk = await browser.newContext(h.DESKTOP);
  const admin = await desk.newPage();
  await h.signIn(admin, h.ADMIN);
  const phone = await browser.newContext(h.PHONE);
  const guard = await phone.newPage();
  await h.signIn(guard, h.GUARD);
  await admin.reload();
  // The admin's own account and the device in hand cannot be revoked from here.
  const mine = admin.locator('[data-testid="admin-user"][data-username="admin"]');
  await expect(mine).toContainText('您本人');
  await expect(mine.getByTestId('revoke-user')).toHaveCount(0);
  const thisDevice = admin.locator('[data-testid="admin-device"][data-username="admin"]').filter({ has: admin.getByTestId('this-device') });
  await expect(thisDevice).toHaveCount(1);
  await expect(thisDevice.getByTestId('revoke-device')).toHaveCount(0);
  // Revoking the guard's phone asks first; 取消 changes nothing.
  const guardsPhone = admin.locator('[data-testid="admin-device"][data-username="guard"]').first();
  await guardsPhone.getByTestId('revoke-device').click();
  await expect(guardsPhone).toContainText('停用后将无法登录和上传');
  await guardsPhone.getByTestId('revoke-device-cancel').click();
  await expect(guardsPhone.getByTestId('revoke-device')).toBeVisible();
  await guardsPhone.getByTestId('revoke-device').click();
  await guardsPhone.getByTestId('revoke-device-confirm').click();
  await expect(admin.getByTestId('notice')).toHaveText('已停用');
  await expect(guardsPhone).toContainText('已停用');
  // A revocation made by mistake is undone.
  await guardsPhone.getByTestId('restore-device').click();
  await expect(admin.getByTestId('notice')).toHaveText('已恢复启用');
  await expect(guardsPhone.getByTestId('revoke-device')).toBeVisible();
  // The admin is still signed in and the list still loads.
  await admin.reload();
  await expect(admin.getByTestId('admin-users')).toContainText('王保安');
  await phone.close();
  await desk.close();
});
