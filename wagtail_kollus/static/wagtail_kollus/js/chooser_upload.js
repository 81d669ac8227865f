/*
 * wagtail-kollus: the video chooser's "Upload" tab.
 *
 * upload.js uploads the file and dispatches "wagtail-kollus:upload-complete" (then
 * "-ready" or "-failed"). This script only points the tab's "Use this video" link at the
 * chooser's library endpoint for that media and reveals it. The link is an ordinary
 * a[data-chooser-modal-choice], so Wagtail's own modal code follows it and handles the
 * "chosen" step like any other choice.
 *
 * Listens on the document (the modal inserts the tab after page load, possibly many times);
 * the guard keeps one listener however often the modal loads this file.
 */
(function () {
  "use strict";

  if (window.wagtailKollusChooserUpload) return;
  window.wagtailKollusChooserUpload = true;

  function panelFor(event) {
    return event.target && event.target.closest
      ? event.target.closest("[data-kollus-chooser-upload]")
      : null;
  }

  function offer(event) {
    var panel = panelFor(event);
    var media = event.detail;
    if (!panel || !media || media.id === undefined) return;
    var url = new URL(panel.getAttribute("data-chosen-url"), window.location.href);
    url.searchParams.set("media", String(media.id));
    panel.querySelector("[data-kollus-chooser-use-link]").href = url.pathname + url.search;
    panel.querySelector("[data-kollus-chooser-use]").hidden = false;
  }

  function withdraw(event) {
    var panel = panelFor(event);
    if (panel) panel.querySelector("[data-kollus-chooser-use]").hidden = true;
  }

  document.addEventListener("wagtail-kollus:upload-complete", offer);
  document.addEventListener("wagtail-kollus:upload-ready", offer);
  document.addEventListener("wagtail-kollus:upload-failed", withdraw);
  document.addEventListener("wagtail-kollus:upload-deleted", withdraw);
})();
