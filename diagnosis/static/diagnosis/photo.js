// The upload form's photo, before it is sent: a preview, and a phone's 12 MP photo made smaller
// so it does not take a minute on a mobile connection. case.js sends what prepare() returns.
//
// Only photos whose long side is over MAX_SIDE are redrawn, upright (EXIF orientation applied)
// and re-encoded as JPEG. That drops the metadata the server drops anyway (it stores a clean
// re-encoded copy, diagnosis/imaging.py). A photo this browser cannot decode (HEIC in most
// browsers) is sent as it is, and the server's checks decide, as they do for every upload.
(function () {
  "use strict";
  var MAX_SIDE = 2048;  // px; dermatologists zoom in, so no smaller
  var QUALITY = 0.92;   // the server stores its own copy at 92 too

  function decodeWithImg(file) {
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file);
      var img = new Image();
      // Browsers apply EXIF orientation to <img> (CSS image-orientation: from-image) and so
      // to what drawImage paints from it; naturalWidth/Height are the upright size.
      img.onload = function () {
        resolve({source: img, width: img.naturalWidth, height: img.naturalHeight,
                 close: function () { URL.revokeObjectURL(url); }});
      };
      img.onerror = function () { URL.revokeObjectURL(url); reject(new Error("undecodable")); };
      img.src = url;
    });
  }

  function decode(file) {
    if (!window.createImageBitmap) return decodeWithImg(file);
    var bitmap;
    try {
      bitmap = window.createImageBitmap(file, {imageOrientation: "from-image"});
    } catch (e) {
      return decodeWithImg(file);  // an older browser that refuses the options
    }
    return bitmap.then(function (b) {
      return {source: b, width: b.width, height: b.height, close: function () { b.close(); }};
    }, function () { return decodeWithImg(file); });
  }

  function jpegName(name) {
    return (name || "photo").replace(/\.[^.\/]*$/, "") + ".jpg";
  }

  // Resolves to {blob, name, width, height, resized, from: [w, h] when resized}; width and
  // height are null when the browser could not decode the photo. Never rejects: on any
  // failure the original is sent.
  function prepare(file) {
    var original = {blob: file, name: file.name, width: null, height: null, resized: false};
    return decode(file).then(function (decoded) {
      var w = decoded.width, h = decoded.height, longest = Math.max(w, h);
      original.width = w;
      original.height = h;
      if (longest <= MAX_SIDE) { decoded.close(); return original; }
      var k = MAX_SIDE / longest;
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(w * k));
      canvas.height = Math.max(1, Math.round(h * k));
      var ctx = canvas.getContext("2d");
      ctx.imageSmoothingEnabled = true;
      ctx.imageSmoothingQuality = "high";
      ctx.drawImage(decoded.source, 0, 0, canvas.width, canvas.height);
      decoded.close();
      return new Promise(function (resolve) {
        if (!canvas.toBlob) { resolve(original); return; }
        canvas.toBlob(function (blob) {
          var result = original;
          if (blob && blob.size > 0) {
            result = {blob: blob, name: jpegName(file.name), width: canvas.width,
                      height: canvas.height, resized: true, from: [w, h]};
          }
          canvas.width = canvas.height = 0;  // free the pixels now, not at the next GC
          resolve(result);
        }, "image/jpeg", QUALITY);
      });
    }).catch(function () { return original; });
  }

  function px(w, h) { return w + " × " + h + " px"; }

  // The preview, and the prepared photo for the file now chosen, kept until the next choice.
  function setup(input) {
    var box = document.getElementById("upload-preview");
    var img = box && box.querySelector("img");
    var caption = box && box.querySelector("figcaption");
    var current = null;  // {file, promise}
    var previewUrl = null;

    function show(file) {
      if (!box) return;
      if (previewUrl) { URL.revokeObjectURL(previewUrl); previewUrl = null; }
      if (!file) { box.hidden = true; img.removeAttribute("src"); return; }
      previewUrl = URL.createObjectURL(file);
      img.hidden = false;
      img.onerror = function () {
        img.hidden = true;
        caption.textContent = "No preview: this browser cannot show this kind of photo. " +
          "It will be sent as it is.";
      };
      img.src = previewUrl;
      caption.textContent = "Preparing the photo…";
      box.hidden = false;
    }

    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      show(file);
      current = file ? {file: file, promise: prepare(file)} : null;
      if (!current) return;
      var mine = current;
      mine.promise.then(function (photo) {
        if (current !== mine || !caption || photo.width === null) return;
        caption.textContent = photo.resized
          ? px(photo.from[0], photo.from[1]) + ", sent as " + px(photo.width, photo.height) +
            " to upload faster."
          : px(photo.width, photo.height) + ", sent as it is.";
      });
    });

    return {
      prepared: function () {
        var file = input.files && input.files[0];
        if (!file) return Promise.resolve(null);
        if (!current || current.file !== file) current = {file: file, promise: prepare(file)};
        return current.promise;
      }
    };
  }

  window.SkincarePhoto = {MAX_SIDE: MAX_SIDE, QUALITY: QUALITY, prepare: prepare, setup: setup};
})();
