// A round on a route the office defined: the guard scans each checkpoint's QR code with the
// phone's camera (here a fake camera that films the code the office printed), picks one whose
// code is damaged from the list, is asked to confirm before ending with one not visited, and
// the office sees the missed checkpoint for the route and the day.
const { test, expect } = require('@playwright/test');
const h = require('./helpers');

/** Gives the phone's browser a camera that films `imageUrl` on a white wall. */
async function cameraFilming(context, imageUrl) {
  await context.addInitScript((url) => {
    navigator.mediaDevices.getUserMedia = async () => {
      const image = new Image();
      image.src = url;
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = 640;
      canvas.height = 480;
      const g = canvas.getContext('2d');
      const draw = () => {
        g.fillStyle = '#fff';
        g.fillRect(0, 0, 640, 480);
        g.drawImage(image, 170, 90, 300, 300);
      };
      draw();
      setInterval(draw, 100);
      return canvas.captureStream(10);
    };
  }, imageUrl);
}

test('patrol_round_by_scanning_checkpoints', async ({ browser }) => {
  // The office defines a route of three checkpoints, due twice a night, 45 minutes a round.
  const desk = await browser.newContext(h.DESKTOP);
  const office = await desk.newPage();
  await h.signIn(office, h.CLERK);
  await office.getByTestId('open-routes').click();
  await office.getByTestId('new-route').click();
  const name = `夜间巡逻A线 ${Date.now()}`;
  await office.getByTestId('route-name').fill(name);
  const names = ['1号门岗', 'B2车库', '3栋天台'];
  for (const [i, checkpoint] of names.entries()) {
    if (i > 0) await office.getByTestId('route-add-checkpoint').click();
    await office.getByTestId('route-checkpoint-name').nth(i).fill(checkpoint);
  }
  await office.getByTestId('route-checkpoint-hint').nth(1).fill('电梯厅左侧柱子');
  await office.getByTestId('route-due').fill('22:00，2:00');
  await office.getByTestId('route-minutes').fill('45');
  await office.getByTestId('route-save').click();
  // Its sheet of codes to print, one per checkpoint.
  await expect(office.getByTestId('checkpoint-qr')).toHaveCount(3);
  const code = office.locator('[data-testid="checkpoint-qr"][data-checkpoint="1号门岗"] .qr-code');
  const png = await code.screenshot();

  // The guard's phone films the first checkpoint's code.
  const phone = await browser.newContext(h.SMALL_PHONE);
  await cameraFilming(phone, `data:image/png;base64,${png.toString('base64')}`);
  const guard = await phone.newPage();
  await h.signIn(guard, h.GUARD);
  await h.waitForServiceWorker(guard);
  // The route reaches the phone; a tap on it starts the round (his open one is ended first).
  const choice = guard.locator(`[data-testid="route-choice"][data-route="${name}"]`);
  await expect(choice).toContainText('3 个巡更点');
  expect((await choice.boundingBox()).height).toBeGreaterThanOrEqual(48);
  await choice.click();
  await h.endOpenRoundIfAsked(guard);
  const checkpoint = (n) => guard.locator(`[data-testid="route-checkpoint"][data-checkpoint="${n}"]`);
  await expect(guard.getByTestId('route-checkpoint')).toHaveCount(3);
  await expect(checkpoint('1号门岗')).toHaveAttribute('data-state', 'next');
  await expect(guard.getByTestId('route-progress')).toHaveText('已打卡 0/3');

  // With no network, the camera reads the code: one tap clocks in.
  await phone.setOffline(true);
  await guard.getByTestId('scan-checkpoint').click();
  await expect(guard.getByTestId('notice')).toHaveText('已扫码打卡，保存在本机');
  await expect(guard.getByTestId('scanner')).toHaveCount(0);
  await expect(checkpoint('1号门岗')).toHaveAttribute('data-state', 'done');
  await expect(checkpoint('B2车库')).toHaveAttribute('data-state', 'next');
  await expect(checkpoint('B2车库')).toContainText('电梯厅左侧柱子');

  // A checkpoint of the route cannot be typed in by hand...
  await guard.getByTestId('elsewhere').locator('summary').click();
  await h.addVisit(guard, 'B2车库', '');
  await expect(guard.getByTestId('problems').first()).toContainText('这是本路线的巡更点');
  // ...its code is damaged: the guard clocks in from the list, and the record says so.
  const pick = checkpoint('B2车库').getByTestId('pick-checkpoint');
  expect((await pick.boundingBox()).height).toBeGreaterThanOrEqual(48);
  await pick.click();
  await expect(checkpoint('B2车库')).toHaveAttribute('data-state', 'done');
  await expect(guard.getByTestId('picked-mark')).toHaveCount(1);
  await expect(guard.getByTestId('route-progress')).toHaveText('已打卡 2/3');

  // Severity is three large buttons.
  await guard.getByTestId('report-finding').click();
  expect((await guard.getByTestId('severity-high').boundingBox()).height).toBeGreaterThanOrEqual(48);
  await h.addFinding(guard, { what: '天台门锁坏了', where: '3栋天台入口', severity: 'high', followUp: true });
  await expect(guard.getByTestId('finding-item')).toContainText('高');

  // The actions sit at the bottom of a 360-px screen, within reach, and cover nothing.
  const bar = await guard.getByTestId('round-bar').boundingBox();
  expect(bar.y + bar.height).toBeLessThanOrEqual(740 + 1);
  for (const id of ['scan-checkpoint', 'report-finding', 'end-round']) {
    expect((await guard.getByTestId(id).boundingBox()).height).toBeGreaterThanOrEqual(48);
  }
  // Ending asks first, and names the checkpoint not visited; the guard can go on instead.
  await guard.getByTestId('end-round').click();
  await expect(guard.getByTestId('not-visited')).toHaveText('3栋天台');
  await guard.getByTestId('cancel-end-round').click();
  await expect(guard.getByTestId('end-confirm')).toHaveCount(0);
  await guard.getByTestId('end-round').click();
  await guard.getByTestId('confirm-end-round').click();
  await expect(guard.getByTestId('notice')).toHaveText('巡逻已结束并保存在本机');
  await expect(guard.getByTestId('round-bar')).toHaveCount(0);

  // Back online, the round goes up; the office sees, for the route and the day, the round
  // and the checkpoint it missed.
  await phone.setOffline(false);
  await expect(guard.getByTestId('record-status')).toHaveAttribute('data-status', 'received', { timeout: 45_000 });
  await office.getByTestId('back').click();
  await office.getByTestId('open-routes').click();
  const day = office.locator(`[data-testid="route-day"][data-route="${name}"]`);
  await expect(day.getByTestId('route-rounds')).toHaveText('巡逻 1 次');
  await expect(day.getByTestId('route-missed')).toHaveText('漏打卡：3栋天台 ×1');
  await expect(day.getByTestId('route-slot')).toHaveCount(2);
  // The office list shows how far the round got.
  await office.getByTestId('back').click();
  await expect(h.officeItem(office, name).getByTestId('office-progress')).toHaveText('已打卡 2/3');
  await desk.close();
  await phone.close();
});
