// Case page: upload with a progress bar, then poll the case status until the analysis is done.
// Without JavaScript the form posts normally and a <noscript> refresh updates the page.
(function () {
  "use strict";

  function setupUpload(form) {
    var progress = document.getElementById("upload-progress");
    var bar = progress.querySelector("progress");
    var label = progress.querySelector("span");
    var errors = document.getElementById("upload-errors");
    var button = form.querySelector("button[type=submit]");
    var maxBytes = parseInt(form.dataset.maxBytes, 10);
    var fileInput = form.querySelector("input[type=file]");
    // photo.js: the preview, and a large photo made smaller before it is sent.
    var photo = window.SkincarePhoto && fileInput ? window.SkincarePhoto.setup(fileInput) : null;

    function failed(message) {
      progress.hidden = true;
      button.disabled = false;
      errors.textContent = message;
    }

    function send(data) {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) return;
        var pct = Math.round((e.loaded / e.total) * 100);
        bar.value = pct;
        label.textContent = pct < 100 ? "Uploading… " + pct + "%" : "Checking the photo…";
      });
      xhr.addEventListener("load", function () {
        var data = {};
        try { data = JSON.parse(xhr.responseText); } catch (err) { /* not JSON */ }
        if (xhr.status >= 200 && xhr.status < 300 && data.redirect) {
          window.location.assign(data.redirect);
          return;
        }
        failed((data.errors || ["The upload failed (" + xhr.status + "). Please try again."]).join(" "));
      });
      xhr.addEventListener("error", function () {
        failed("The upload failed. Check your connection and try again.");
      });
      bar.value = 0;
      label.textContent = "Uploading…";
      xhr.send(data);
    }

    form.addEventListener("submit", function (event) {
      if (!window.FormData || !fileInput) return; // let the browser post the form
      event.preventDefault();
      errors.textContent = "";
      var file = fileInput.files[0];
      if (!file) { errors.textContent = "Choose a photo first."; return; }
      progress.hidden = false;
      bar.value = 0;
      label.textContent = "Preparing the photo…";
      button.disabled = true;
      var ready = photo ? photo.prepared() : Promise.resolve({blob: file, name: file.name});
      ready.then(function (prepared) {
        // The limit applies to what is sent: a large phone photo may fit once resized.
        if (maxBytes && prepared.blob.size > maxBytes) {
          failed("The photo is larger than the " + Math.round(maxBytes / 1048576) + " MB limit.");
          return;
        }
        var data = new FormData(form);
        if (prepared.blob !== file) data.set(fileInput.name, prepared.blob, prepared.name);
        send(data);
      });
    });
  }

  function pollStatus(section) {
    var url = section.dataset.statusUrl;
    var started = Date.now();
    function tick() {
      if (Date.now() - started > 5 * 60 * 1000) return; // give up quietly; a reload still works
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { pending: true }; })
        .then(function (data) {
          if (data.pending) { window.setTimeout(tick, 1500); } else { window.location.reload(); }
        })
        .catch(function () { window.setTimeout(tick, 3000); });
    }
    window.setTimeout(tick, 1000);
  }

  // Removing a photo cannot be undone: ask first (forms marked data-confirm).
  function setupConfirm(form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-confirm]").forEach(setupConfirm);
    var form = document.getElementById("upload-form");
    if (form) setupUpload(form);
    var section = document.getElementById("analysis");
    if (section && section.dataset.pending) pollStatus(section);
  });
})();
