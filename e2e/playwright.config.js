// Playwright drives Debian's Chromium (never a downloaded browser) against the server that
// `cargo xtask test` starts on a fresh database; its address comes in BASE_URL.
const { defineConfig } = require('@playwright/test');

const chromiumArgs = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

module.exports = defineConfig({
  testDir: './tests',
  timeout: 120_000,
  expect: { timeout: 20_000 },
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: process.env.BASE_URL,
    launchOptions: { executablePath: '/usr/bin/chromium', args: chromiumArgs },
  },
});
module.exports.chromiumArgs = chromiumArgs;
