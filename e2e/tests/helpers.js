// Actions and finders shared by the scenarios; checks stay in the scenarios.
const { chromium, expect } = require('@playwright/test');
const { chromiumArgs } = require('../playwright.config');

const GUARD = { username: 'guard', password: 'guard-demo-2026' };
const CLERK = { username: 'clerk', password: 'clerk-demo-2026' };
const ADMIN = { username: 'admin', password: 'admin-demo-2026' };
const TECH = { username: 'tech', password: 'tech-demo-2026' };
const CLEANER = { username: 'cleaner', password: 'cleaner-demo-2026' };
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
const DESKTOP = { viewport: { width: 1280, height: 800 } };

/** The narrowest phones staff carry. */
const SMALL_PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true };

/**
 * A phone browser with its own profile on disk, so it can be closed and opened again; it
 * opens the server the suite runs against unless told another.
 */
async function launchPhone(profileDir, device = PHONE, baseURL = process.env.BASE_URL) {
  return chromium.launchPersistentContext(profileDir, {
    ...device,
    baseURL,
    executablePath: '/usr/bin/chromium',
    args: chromiumArgs,
  });
}

async function signIn(page, { username, password }) {
  await page.goto('/');
  await page.getByTestId('username').fill(username);
  await page.getByTestId('password').fill(password);
  await page.getByTestId('sign-in').click();
  await expect(page.getByTestId('sign-out')).toBeVisible();
}

async function waitForServiceWorker(page) {
  await page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }));
    }
    return registration.active && registration.active.state;
  });
}

/**
 * A guard of the demo estate of his own, added by the admin: for scenarios that count the
 * records on a phone, which the demo guard's rounds left open by other scenarios would
 * change (a new round ends his open one).
 */
async function newGuard(browser, label) {
  const guard = { username: `guard-${label}-${Date.now()}`, password: 'guard-test-2026' };
  const desk = await browser.newContext(DESKTOP);
  const admin = await desk.newPage();
  await signIn(admin, ADMIN);
  await admin.getByTestId('new-username').fill(guard.username);
  await admin.getByTestId('new-display-name').fill(`保安${label}`);
  await admin.getByTestId('new-password-admin').fill(guard.password);
  await admin.getByTestId('create-user').click();
  await expect(admin.getByTestId('admin-message')).toHaveText('用户已添加');
  await desk.close();
  return guard;
}

/** Starts a round named by hand; a round of the guard's still open (one per guard) is ended. */
async function startRound(page, route) {
  await page.getByTestId('route-input').fill(route);
  await page.getByTestId('start-round').click();
  await endOpenRoundIfAsked(page);
}

/** After a start: when the guard has a round open, the app asks to end it first. */
async function endOpenRoundIfAsked(page) {
  const prompt = page.getByTestId('end-and-start');
  await expect(page.getByTestId('record').or(prompt)).toBeVisible();
  if (await prompt.isVisible()) await prompt.click();
  await expect(page.getByTestId('record')).toBeVisible();
}

async function addVisit(page, checkpoint, note) {
  await page.getByTestId('checkpoint-input').fill(checkpoint);
  await page.getByTestId('visit-note-input').fill(note);
  await page.getByTestId('add-visit').click();
}

async function addFinding(page, { what, where, severity, followUp }) {
  await page.getByTestId('finding-what').fill(what);
  await page.getByTestId('finding-where').fill(where);
  await page.getByTestId(`severity-${severity}`).click();
  if (followUp) await page.getByTestId('finding-follow-up').check();
  await page.getByTestId('add-finding').click();
}

/** Draws a zigzag across the signature pad with the mouse (pointer events, as a finger). */
async function drawSignature(page) {
  const pad = page.getByTestId('signature-pad');
  await pad.scrollIntoViewIfNeeded();
  const box = await pad.boundingBox();
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + 15, y);
  await page.mouse.down();
  for (let i = 1; i <= 12; i += 1) {
    await page.mouse.move(box.x + 15 + i * ((box.width - 30) / 12), y + (i % 2 ? -30 : 30), { steps: 3 });
  }
  await page.mouse.up();
}

const roundItem = (page, route) => page.getByTestId('round-item').filter({ hasText: route });
const officeItem = (page, route) => page.getByTestId('office-item').filter({ hasText: route });

module.exports = {
  endOpenRoundIfAsked, newGuard, GUARD, CLERK, ADMIN, TECH, CLEANER, PHONE, SMALL_PHONE, DESKTOP, launchPhone, drawSignature, signIn, waitForServiceWorker, startRound, addVisit, addFinding, roundItem, officeItem,
};
