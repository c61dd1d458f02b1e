// Loads the WebAssembly app. Until it runs, the first screen of index.html shows, in the
// language the user chose (the app keeps it under `gatehouse.locale`). The app's script is
// imported here, not statically, so that a script that cannot be fetched still shows the
// failure on the first screen. This file lies beside the app's other files, in the folder of
// its build (`/app/<hash>/`): they are named relative to it.
try {
  if (localStorage.getItem('gatehouse.locale') === 'en') {
    document.documentElement.lang = 'en';
    for (const element of document.querySelectorAll('#boot [data-en]')) {
      element.textContent = element.dataset.en;
    }
  }
} catch (_) {
  // Storage may be refused (private mode): the first screen stays in Chinese.
}

import('./app.js')
  .then((app) => app.default({ module_or_path: new URL('./app_bg.wasm', import.meta.url) }))
  .catch((error) => {
    console.error('the app could not load', error);
    const boot = document.getElementById('boot');
    if (boot) {
      boot.setAttribute('aria-busy', 'false');
      document.getElementById('boot-failed').hidden = false;
      boot.querySelector('.boot-bar').hidden = true;
    }
  });
