// The review page's photo: zoom, and an annotation editor on a <canvas> laid over the image.
// Every point is in the stored image's pixel coordinates whatever the zoom (the canvas is
// scaled to them); the server checks them again (review.models.validate_points).
(function () {
  "use strict";
  var canvas = document.getElementById("annotation-canvas");
  if (!canvas) return;
  var ctx = canvas.getContext("2d");
  var stage = document.getElementById("zoom-stage");
  var W = canvas.width, H = canvas.height;
  var editable = canvas.dataset.editable === "1";
  var api = canvas.dataset.api;
  var itemBase = canvas.dataset.itemBase;  // ".../annotations/0/"
  var userId = Number(canvas.dataset.userId);
  var dataEl = document.getElementById("annotations-data");
  var annotations = dataEl ? JSON.parse(dataEl.textContent) : [];
  var colours = ["#ffd400", "#00e5ff", "#ff4fd8", "#7CFC00", "#ff7f2a", "#ffffff"];
  var pending = null;  // {shape, points}
  var dragStart = null;

  function $(id) { return document.getElementById(id); }

  // --- Zoom -------------------------------------------------------------------------------
  // The steps are multiples of the width that fits; the label says the real scale: the photo's
  // own pixels per CSS pixel on screen ("100%": one photo pixel per pixel), whatever the step.
  var levels = [1, 1.5, 2, 3, 4, 6, 8], level = 0;
  function setZoom(i) {
    level = Math.max(0, Math.min(levels.length - 1, i));
    stage.style.width = (levels[level] * 100) + "%";
    render();
  }
  function showScale() {
    var shown = canvas.getBoundingClientRect().width;
    if (!shown) return;
    var pct = shown / W * 100;
    var text = (pct < 10 ? pct.toFixed(1) : String(Math.round(pct))) + "%";
    var label = $("zoom-level");
    if (label.textContent !== text) label.textContent = text;
  }
  $("zoom-in").addEventListener("click", function () { setZoom(level + 1); });
  $("zoom-out").addEventListener("click", function () { setZoom(level - 1); });
  $("zoom-reset").addEventListener("click", function () { setZoom(0); });

  // --- Drawing ----------------------------------------------------------------------------
  function lineWidth() {
    var shown = canvas.getBoundingClientRect().width || W;
    return 2.5 * W / shown;  // about 2.5 screen pixels at any zoom
  }
  function path(shape, pts) {
    ctx.beginPath();
    if (shape === "rectangle" && pts.length === 2) {
      ctx.rect(pts[0][0], pts[0][1], pts[1][0] - pts[0][0], pts[1][1] - pts[0][1]);
    } else {
      pts.forEach(function (p, i) { if (i) ctx.lineTo(p[0], p[1]); else ctx.moveTo(p[0], p[1]); });
    }
  }
  // Shapes and labels must read on any skin, pale or dark: each line is drawn twice, a dark
  // outline under a bright one, and labels are white on a dark, semi-transparent box.
  var OUTLINE = "rgba(0, 0, 0, 0.8)", LABEL_BOX = "rgba(0, 0, 0, 0.72)", LABEL_TEXT = "#fff";
  function strokeTwoTone(shape, pts, colour, lw, dashed, closed) {
    path(shape, pts);
    if (closed) ctx.closePath();
    ctx.lineJoin = "round";
    ctx.setLineDash(dashed ? [4 * lw, 3 * lw] : []);
    ctx.lineWidth = lw * 2.2;
    ctx.strokeStyle = OUTLINE;
    ctx.stroke();
    ctx.lineWidth = lw;
    ctx.strokeStyle = colour;
    ctx.stroke();
  }
  function drawLabel(text, pts, colour, lw) {
    var size = 6 * lw, pad = 1.5 * lw, strip = 1.5 * lw;  // 15, 4 and 4 screen pixels
    ctx.font = size + "px system-ui, sans-serif";
    ctx.textBaseline = "top";
    var boxW = Math.min(W, strip + 2 * pad + ctx.measureText(text).width);
    var boxH = size + 2 * pad;
    var left = Math.min.apply(null, pts.map(function (p) { return p[0]; }));
    var top = Math.min.apply(null, pts.map(function (p) { return p[1]; }));
    // Above the shape when there is room, else just inside its top edge; never off the image.
    var x = Math.max(0, Math.min(W - boxW, left));
    var y = top - boxH - lw >= 0 ? top - boxH - lw : Math.min(H - boxH, top + lw);
    ctx.setLineDash([]);
    ctx.fillStyle = LABEL_BOX;
    ctx.fillRect(x, y, boxW, boxH);
    ctx.fillStyle = colour;  // ties the label to its shape
    ctx.fillRect(x, y, strip, boxH);
    ctx.fillStyle = LABEL_TEXT;
    ctx.fillText(text, x + strip + pad, y + pad, boxW - strip - 2 * pad);
  }
  function draw(a, colour, dashed) {
    var lw = lineWidth();
    ctx.save();
    strokeTwoTone(a.shape, a.points, colour, lw, dashed, a.shape === "polygon" && !dashed);
    if (a.label && a.points.length) drawLabel(a.label, a.points, colour, lw);
    ctx.restore();
  }
  // The canvas keeps the photo's coordinates (W x H) but draws at the resolution it is shown
  // at, so labels stay sharp on a small photo or a zoomed one (within a memory bound).
  var MAX_BACKING = 4096;
  function fitCanvas() {
    var shown = canvas.getBoundingClientRect().width || W;
    var k = shown * (window.devicePixelRatio || 1) / W;
    k = Math.max(1, Math.min(k, MAX_BACKING / Math.max(W, H)));
    var bw = Math.round(W * k), bh = Math.round(H * k);
    if (canvas.width !== bw || canvas.height !== bh) { canvas.width = bw; canvas.height = bh; }
    ctx.setTransform(bw / W, 0, 0, bh / H, 0, 0);
  }
  function render() {
    showScale();
    fitCanvas();
    ctx.clearRect(0, 0, W, H);
    annotations.forEach(function (a, i) { draw(a, colours[i % colours.length], false); });
    if (pending && pending.points.length) {
      draw({shape: pending.shape, points: pending.points, label: ""}, "#ff2020", true);
    }
  }

  function renderList() {
    var list = $("annotation-list");
    list.textContent = "";
    if (!annotations.length) {
      var none = document.createElement("li");
      none.className = "muted";
      none.textContent = "None yet.";
      list.appendChild(none);
    }
    annotations.forEach(function (a, i) {
      var li = document.createElement("li");
      li.setAttribute("data-testid", "annotation");
      li.dataset.annotationId = a.id;
      var sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = colours[i % colours.length];
      li.appendChild(sw);
      var text = document.createElement("span");
      text.textContent = a.label + " (" + a.shape + ", " + a.points.length + " points)" +
        (a.comment ? ": " + a.comment : "") + " · " + (a.author_name || "");
      li.appendChild(text);
      if (editable && a.author === userId) {
        var del = document.createElement("button");
        del.type = "button";
        del.className = "link";
        del.textContent = "Delete";
        del.setAttribute("aria-label", "Delete annotation " + a.label);
        del.addEventListener("click", function () { remove(a); });
        li.appendChild(document.createTextNode(" "));
        li.appendChild(del);
      }
      list.appendChild(li);
    });
  }

  function toImage(evt) {
    var r = canvas.getBoundingClientRect();
    var x = (evt.clientX - r.left) * W / r.width, y = (evt.clientY - r.top) * H / r.height;
    return [Math.round(Math.max(0, Math.min(W, x)) * 10) / 10,
            Math.round(Math.max(0, Math.min(H, y)) * 10) / 10];
  }
  function tool() {
    var checked = document.querySelector("input[name=tool]:checked");
    return checked ? checked.value : "rectangle";
  }
  function showPoints() {
    var field = $("annotation-points");
    if (field) field.value = pending ? JSON.stringify(pending.points) : "";
  }
  function clearPending() { pending = null; dragStart = null; showPoints(); render(); }

  if (editable) {
    canvas.addEventListener("pointerdown", function (evt) {
      if (evt.button !== 0) return;
      var p = toImage(evt);
      if (tool() === "rectangle") {
        dragStart = p;
        pending = {shape: "rectangle", points: [p, p]};
        canvas.setPointerCapture(evt.pointerId);
      } else {
        if (!pending || pending.shape !== "polygon" || pending.closed) {
          pending = {shape: "polygon", points: []};
        }
        pending.points.push(p);
      }
      showPoints();
      render();
    });
    canvas.addEventListener("pointermove", function (evt) {
      if (dragStart && pending) {
        pending.points = [dragStart, toImage(evt)];
        render();
      }
    });
    canvas.addEventListener("pointerup", function (evt) {
      if (!dragStart || !pending) return;
      pending.points = [dragStart, toImage(evt)];
      dragStart = null;
      var a = pending.points[0], b = pending.points[1];
      if (a[0] === b[0] || a[1] === b[1]) pending = null;  // a click, not a drag
      showPoints();
      render();
    });
    canvas.addEventListener("dblclick", function () { closePolygon(); });
    $("polygon-finish").addEventListener("click", closePolygon);
    $("annotation-cancel").addEventListener("click", clearPending);
    $("annotation-points").addEventListener("change", function () {
      try {
        var pts = JSON.parse(this.value);
        if (Array.isArray(pts)) {
          pending = {shape: pts.length === 2 ? "rectangle" : "polygon", points: pts,
                     closed: true};
          var radio = $(pending.shape === "rectangle" ? "tool-rectangle" : "tool-polygon");
          if (radio) radio.checked = true;
          render();
        }
      } catch (e) { error("Points must be JSON, e.g. [[10, 20], [110, 90]]."); }
    });
    $("annotation-save").addEventListener("click", save);
  }

  function closePolygon() {
    if (!pending || pending.shape !== "polygon") return;
    // A double click also registered two pointerdowns on the same spot: drop repeats.
    pending.points = pending.points.filter(function (p, i, all) {
      return i === 0 || p[0] !== all[i - 1][0] || p[1] !== all[i - 1][1];
    });
    pending.closed = true;
    showPoints();
    render();
  }

  function error(message) { $("annotation-errors").textContent = message || ""; }

  function csrf() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function send(method, url, body) {
    return fetch(url, {
      method: method, credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json",
                "X-CSRFToken": csrf()},
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      if (response.status === 204) return null;
      return response.json().then(function (data) {
        if (!response.ok) {
          var messages = [];
          Object.keys(data).forEach(function (k) {
            messages = messages.concat(Array.isArray(data[k]) ? data[k] : [String(data[k])]);
          });
          throw new Error(messages.join(" ") || "Not saved.");
        }
        return data;
      });
    });
  }

  function save() {
    error("");
    if (!pending) { error("Draw a rectangle or a polygon first."); return; }
    var label = $("annotation-label").value.trim();
    if (!label) { error("Give the annotation a label."); return; }
    if (pending.shape === "polygon" && !pending.closed) closePolygon();
    var body = {shape: pending.shape, points: pending.points, label: label,
                comment: $("annotation-comment").value};
    send("POST", api, body).then(function (saved) {
      annotations.push(saved);
      $("annotation-label").value = "";
      $("annotation-comment").value = "";
      clearPending();
      renderList();
    }).catch(function (e) { error(e.message); });
  }

  function remove(a) {
    error("");
    // Deleting cannot be undone, and the button sits close to the others.
    if (!window.confirm("Delete the annotation \u201c" + a.label + "\u201d? This cannot be undone.")) return;
    send("DELETE", itemBase.replace(/\/0\/$/, "/" + a.id + "/")).then(function () {
      annotations = annotations.filter(function (b) { return b.id !== a.id; });
      render();
      renderList();
    }).catch(function (e) { error(e.message); });
  }

  window.addEventListener("resize", render);
  // The photo's width on screen also changes without a window resize (the side panel's
  // content, a scroll bar appearing): redraw and relabel whenever it does.
  if (window.ResizeObserver) new ResizeObserver(function () { render(); }).observe(stage);
  render();
  renderList();
})();
