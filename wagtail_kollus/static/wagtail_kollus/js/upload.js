/*
 * wagtail-kollus: upload a video straight from the browser to Kollus.
 *
 * 1. POST the options to the server (data-ticket-url). The server creates the local row and
 *    answers a ONE-TIME upload URL. No key or access token ever reaches this page.
 * 2. POST the file to that URL (multipart field "upload-file") with XMLHttpRequest, because
 *    fetch() has no upload progress events. Show percentage, speed and time left; allow cancel.
 * 3. Tell the server how it ended (complete_url / abort_url), then poll status_url until
 *    Kollus's callbacks say "ready" or "failed". What the page says about a state (label,
 *    sentence, tag style) comes from the server's answer, as on every other screen.
 *
 * While the file is on its way, leaving the page asks for confirmation (the browser's own
 * "leave site?" dialog); if the editor leaves anyway, a beacon tells the server the upload
 * was cancelled, so no "uploading" row is left behind.
 *
 * Binds every form[data-kollus-upload], now and when one is inserted later (the chooser's
 * modal inserts its HTML after page load).
 */
(function () {
  "use strict";

  if (window.wagtailKollusUpload) {
    window.wagtailKollusUpload.bindAll(document);
    return;
  }

  var POLL_INTERVAL_MS = 2000;
  var FINAL_STATES = ["ready", "failed", "deleted"];

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function postForm(url, form, data) {
    return fetch(url, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(form), "X-Requested-With": "XMLHttpRequest" },
    }).then(function (response) {
      return response
        .json()
        .catch(function () {
          return { error: response.statusText || String(response.status) };
        })
        .then(function (body) {
          if (!response.ok) {
            var error = new Error(body.error || response.statusText);
            error.body = body;
            throw error;
          }
          return body;
        });
    });
  }

  // Units and phrases come from the template (data-text-*), translated on the server; the
  // English fallbacks only serve a custom template that leaves an attribute out.
  var SIZE_UNITS = [
    ["bytes", "{size} B"],
    ["kilobytes", "{size} KB"],
    ["megabytes", "{size} MB"],
    ["gigabytes", "{size} GB"],
  ];

  function fill(template, name, value) {
    return template.split("{" + name + "}").join(value);
  }

  function formatNumber(value, decimals) {
    var lang = document.documentElement.lang || undefined;
    try {
      return new Intl.NumberFormat(lang, {
        minimumFractionDigits: decimals,
        maximumFractionDigits: decimals,
      }).format(value);
    } catch (e) {
      return value.toFixed(decimals);
    }
  }

  function formatSeconds(seconds) {
    if (!isFinite(seconds) || seconds < 0) return "";
    seconds = Math.round(seconds);
    var m = Math.floor(seconds / 60);
    var s = seconds % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }

  function Uploader(form) {
    this.form = form;
    this.q = function (name) {
      return form.querySelector("[data-kollus-upload-" + name + "]");
    };
    this.xhr = null;
    this.media = null;
    this.busy = false; // from the ticket request until the upload host has answered
    this.cancelled = false;
    // The chosen file has reached Kollus: sending it again would make a second video, so the
    // Upload button stays hidden until another file is chosen.
    this.spent = false;
    // Kollus has decided about this form's last video (or there is none): the form follows
    // one video at a time, so the next upload waits for that.
    this.settled = true;
    form.addEventListener("submit", this.start.bind(this));
    this.q("file").addEventListener("change", this.updateStart.bind(this));
    this.q("cancel").addEventListener("click", this.cancel.bind(this));
    window.addEventListener("beforeunload", this.warnBeforeLeaving.bind(this));
    window.addEventListener("pagehide", this.abandon.bind(this));
  }

  Uploader.prototype.warnBeforeLeaving = function (event) {
    if (!this.busy) return;
    // Browsers show their own text; both calls are needed across browsers.
    event.preventDefault();
    event.returnValue = "";
  };

  Uploader.prototype.abandon = function () {
    // The editor left mid-upload: the request dies with the page, so say so with a beacon
    // (sent even while the page unloads), and the row is removed rather than stranded.
    if (!this.busy || !this.media || !navigator.sendBeacon) return;
    var data = new FormData();
    data.set("csrfmiddlewaretoken", csrfToken(this.form));
    data.set("cancelled", "1");
    navigator.sendBeacon(this.media.abort_url, data);
    this.busy = false;
  };

  Uploader.prototype.resetProgress = function () {
    this.q("progress").hidden = true;
    this.q("bar").value = 0;
    this.q("percent").textContent = "0 %";
    this.q("speed").textContent = "";
    this.q("eta").textContent = "";
  };

  Uploader.prototype.text = function (name, fallback) {
    return this.form.getAttribute("data-text-" + name) || fallback || "";
  };

  Uploader.prototype.formatBytes = function (bytes) {
    var i = 0;
    while (bytes >= 1024 && i < SIZE_UNITS.length - 1) {
      bytes /= 1024;
      i += 1;
    }
    var unit = SIZE_UNITS[i];
    return fill(this.text(unit[0], unit[1]), "size", formatNumber(bytes, i === 0 ? 0 : 1));
  };

  // The upload ended without reaching Kollus (refused ticket, failed transfer, cancelled):
  // whoever queued it (upload_multiple.js) may start the next file.
  Uploader.prototype.stopped = function () {
    this.form.dispatchEvent(new CustomEvent("wagtail-kollus:upload-stopped", { bubbles: true }));
  };

  Uploader.prototype.updateStart = function () {
    var start = this.q("start");
    start.hidden = this.spent && !this.q("file").files.length;
    start.disabled = this.busy || !this.settled;
  };

  Uploader.prototype.showError = function (message) {
    this.stopped();
    var error = this.q("error");
    error.textContent = message;
    error.hidden = false;
    this.q("cancel").hidden = true;
    this.updateStart();
  };

  Uploader.prototype.start = function (event) {
    event.preventDefault();
    // Enter in a field submits even while the button is disabled or hidden.
    if (this.busy || !this.settled) return;
    var file = this.q("file").files[0];
    if (!file) {
      this.q("file").focus();
      return;
    }
    this.spent = false;
    this.cancelled = false;
    this.busy = true;
    this.media = null;
    this.resetProgress();
    this.q("error").hidden = true;
    this.q("state").hidden = true;
    this.q("start").disabled = true;
    this.q("cancel").hidden = false;
    this.q("message").textContent = this.text("uploading");

    var options = new FormData(this.form);
    options.delete("file");
    options.set("file_name", file.name);
    options.set("file_size", String(file.size));
    var self = this;
    postForm(this.form.getAttribute("data-ticket-url"), this.form, options)
      .then(function (ticket) {
        self.media = ticket;
        if (self.cancelled) {
          // Cancelled while the ticket was on its way: the row exists now, remove it.
          self.report(true, self.text("cancelled"));
          return;
        }
        self.send(ticket, file);
      })
      .catch(function (error) {
        self.busy = false;
        self.q("message").textContent = "";
        self.showError(error.message);
      });
  };

  Uploader.prototype.send = function (ticket, file) {
    var self = this;
    var body = new FormData();
    body.append("accept", "application/json");
    body.append("disable_alert", "1");
    body.append("upload-file", file, file.name);

    var xhr = new XMLHttpRequest();
    this.xhr = xhr;
    var startedAt = performance.now();
    this.q("progress").hidden = false;

    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      var percent = Math.floor((e.loaded / e.total) * 100);
      var elapsed = (performance.now() - startedAt) / 1000;
      var speed = elapsed > 0 ? e.loaded / elapsed : 0;
      self.q("bar").value = percent;
      self.q("percent").textContent = percent + " %";
      self.q("speed").textContent = speed
        ? fill(self.text("speed", "{size}/s"), "size", self.formatBytes(speed))
        : "";
      var eta = formatSeconds(speed ? (e.total - e.loaded) / speed : NaN);
      self.q("eta").textContent = eta ? fill(self.text("time-left", "{time} left"), "time", eta) : "";
    });
    xhr.addEventListener("load", function () {
      self.xhr = null;
      self.busy = false;
      if (xhr.status >= 200 && xhr.status < 300) {
        self.q("bar").value = 100;
        self.q("percent").textContent = "100 %";
        self.q("eta").textContent = "";
        self.finished();
      } else {
        self.failed(self.text("failed") + " " + (xhr.statusText || xhr.status));
      }
    });
    xhr.addEventListener("error", function () {
      self.xhr = null;
      self.busy = false;
      self.failed(self.text("network"));
    });
    xhr.addEventListener("abort", function () {
      self.xhr = null;
    });
    // A cross-origin POST without credentials: the upload URL itself is the authorisation.
    xhr.open("POST", ticket.upload_url);
    xhr.send(body);
  };

  Uploader.prototype.finished = function () {
    var self = this;
    this.spent = true;
    this.settled = false;
    this.q("file").value = "";
    this.updateStart();
    this.q("cancel").hidden = true;
    postForm(this.media.complete_url, this.form, new FormData())
      .then(function (media) {
        self.showState(media);
        self.form.dispatchEvent(
          new CustomEvent("wagtail-kollus:upload-complete", { bubbles: true, detail: media })
        );
        self.poll();
      })
      .catch(function (error) {
        self.settled = true; // nothing to follow: another file may go
        self.showError(error.message);
      });
  };

  // Tell the server how the upload ended without reaching Kollus: cancelled (the row is
  // removed) or failed (the row keeps the reason, and the library shows it).
  Uploader.prototype.report = function (cancelled, reason) {
    if (!this.media) return;
    var data = new FormData();
    if (cancelled) data.set("cancelled", "1");
    data.set("reason", reason);
    postForm(this.media.abort_url, this.form, data).catch(function () {});
  };

  Uploader.prototype.failed = function (message) {
    this.resetProgress();
    this.q("message").textContent = "";
    this.showError(message);
    this.report(false, message);
  };

  Uploader.prototype.cancel = function () {
    this.cancelled = true;
    this.busy = false;
    if (this.xhr) this.xhr.abort();
    this.resetProgress();
    this.q("cancel").hidden = true;
    this.q("start").disabled = false;
    this.q("message").textContent = this.text("cancelled");
    this.report(true, this.text("cancelled"));
    this.stopped();
  };

  Uploader.prototype.showState = function (media) {
    this.q("state").hidden = false;
    var label = this.q("state-label");
    label.textContent = media.state_label;
    label.className = ("w-status " + (media.state_classname || "")).trim();
    label.setAttribute("data-state", media.state);
    this.q("message").textContent = media.state_description || "";
    var edit = this.q("edit");
    if (media.edit_url) {
      edit.href = media.edit_url;
      edit.hidden = false;
    }
    // Once Kollus has decided, another file may go (once one is chosen: see updateStart).
    this.settled = FINAL_STATES.indexOf(media.state) !== -1;
    if (media.state === "failed" && media.error) this.showError(media.error);
    this.updateStart();
  };

  Uploader.prototype.poll = function () {
    var self = this;
    fetch(this.media.status_url, { credentials: "same-origin" })
      .then(function (response) {
        return response.json();
      })
      .then(function (media) {
        self.showState(media);
        if (FINAL_STATES.indexOf(media.state) === -1) {
          window.setTimeout(self.poll.bind(self), POLL_INTERVAL_MS);
        } else {
          self.form.dispatchEvent(
            new CustomEvent("wagtail-kollus:upload-" + media.state, { bubbles: true, detail: media })
          );
        }
      })
      .catch(function () {
        window.setTimeout(self.poll.bind(self), POLL_INTERVAL_MS * 2);
      });
  };

  function bindAll(root) {
    var forms = root.querySelectorAll ? root.querySelectorAll("form[data-kollus-upload]") : [];
    Array.prototype.forEach.call(forms, function (form) {
      if (form.kollusUploader) return;
      form.kollusUploader = new Uploader(form);
    });
  }

  window.wagtailKollusUpload = { bindAll: bindAll };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      bindAll(document);
    });
  } else {
    bindAll(document);
  }
  new MutationObserver(function () {
    bindAll(document);
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
