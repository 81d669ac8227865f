/* The "Import from Kollus" screen: while a run is queued or running, fetch its progress
   fragment (rendered by the server, already translated) every 1.5 s and put it in place. */
(function () {
  'use strict';

  const INTERVAL = 1500;

  function poll(section) {
    if (!section.dataset.polling) {
      return;
    }
    window.setTimeout(function () {
      fetch(section.dataset.progressUrl, {
        credentials: 'same-origin',
        headers: { 'X-Requested-With': 'XMLHttpRequest' },
      })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(String(response.status));
          }
          return response.text();
        })
        .then(function (html) {
          const holder = document.createElement('div');
          holder.innerHTML = html.trim();
          const fresh = holder.firstElementChild;
          section.replaceWith(fresh);
          poll(fresh);
        })
        .catch(function () {
          poll(section); // a dropped request: try again at the next tick
        });
    }, INTERVAL);
  }

  document.querySelectorAll('[data-kollus-import-progress]').forEach(poll);
})();
