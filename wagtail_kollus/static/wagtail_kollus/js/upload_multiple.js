/*
 * wagtail-kollus: upload several videos at once, dropped on the page or chosen together.
 *
 * Each file gets its own copy of the single upload form (the <template>), with the file put
 * in its file input and its title taken from the file name; upload.js (bound to every
 * form[data-kollus-upload]) does the rest, exactly as for one file. This script only starts
 * the forms, at most data-parallel at a time: the next starts when one has reached Kollus
 * ("wagtail-kollus:upload-complete") or stopped ("wagtail-kollus:upload-stopped").
 */
(function () {
  "use strict";

  var count = 0;

  function titleFrom(name) {
    var dot = name.lastIndexOf(".");
    return (dot > 0 ? name.slice(0, dot) : name).replace(/[_]+/g, " ").trim();
  }

  function setup(root) {
    var list = root.querySelector("[data-kollus-upload-list]");
    var template = root.querySelector("[data-kollus-upload-template]");
    var input = root.querySelector("[data-kollus-upload-files]");
    var drop = root.querySelector("[data-kollus-upload-drop]");
    var parallel = parseInt(root.getAttribute("data-parallel"), 10) || 1;
    var waiting = [];
    var running = 0;

    function next() {
      while (running < parallel && waiting.length) {
        var form = waiting.shift();
        running += 1;
        form.requestSubmit();
      }
    }

    function settle(event) {
      var form = event.target.closest("form[data-kollus-upload]");
      if (!form || !form.kollusQueued) return;
      form.kollusQueued = false;
      running -= 1;
      next();
    }
    root.addEventListener("wagtail-kollus:upload-complete", settle);
    root.addEventListener("wagtail-kollus:upload-stopped", settle);

    function add(file) {
      count += 1;
      var item = template.content.firstElementChild.cloneNode(true);
      // Ids must stay unique on the page (labels point at them).
      Array.prototype.forEach.call(item.querySelectorAll("[id]"), function (el) {
        el.id = el.id + "-" + count;
      });
      Array.prototype.forEach.call(item.querySelectorAll("label[for]"), function (el) {
        el.htmlFor = el.htmlFor + "-" + count;
      });
      item.querySelector("[data-kollus-upload-name]").textContent = file.name;
      var form = item.querySelector("form[data-kollus-upload]");
      var fileInput = form.querySelector("[data-kollus-upload-file]");
      var files = new DataTransfer();
      files.items.add(file);
      fileInput.files = files.files;
      var title = form.querySelector("input[name=title]");
      if (title) title.value = titleFrom(file.name);
      list.appendChild(item);
      if (window.wagtailKollusUpload) window.wagtailKollusUpload.bindAll(item);
      form.kollusQueued = true;
      waiting.push(form);
    }

    function addAll(fileList) {
      Array.prototype.forEach.call(fileList, add);
      next();
    }

    input.addEventListener("change", function () {
      addAll(input.files);
      input.value = "";
    });
    ["dragenter", "dragover"].forEach(function (name) {
      drop.addEventListener(name, function (event) {
        event.preventDefault();
        drop.classList.add("is-dragging");
      });
    });
    drop.addEventListener("dragleave", function () {
      drop.classList.remove("is-dragging");
    });
    drop.addEventListener("drop", function (event) {
      event.preventDefault();
      drop.classList.remove("is-dragging");
      if (event.dataTransfer && event.dataTransfer.files.length) addAll(event.dataTransfer.files);
    });
  }

  function init() {
    document.querySelectorAll("[data-kollus-upload-multiple]").forEach(setup);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
