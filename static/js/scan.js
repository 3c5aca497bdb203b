/* "Scan with camera" on the add page: a live viewfinder (getUserMedia, the rear camera) that reads
   a QR code by itself and adds it, each batch of a Google Authenticator export one after another.

   Where the browser has the BarcodeDetector API with QR codes (Chromium on Android, macOS), the
   browser reads the code and sends only its text; elsewhere (iOS Safari, Firefox, desktop Linux)
   it sends a downscaled JPEG frame (at most 640 px a side) to the server's zxing-cpp, one request
   in flight at a time. Both go to POST /api/accounts/scan-frame, which answers {found: false}
   until a code is in view (README, "Scanning live" has the measured sizes and times). Without a
   camera, without permission, or over plain HTTP, the page says so and offers the file picker. */
"use strict";
(function () {
  const AV = window.AuthVault, T = AV.T;
  const $ = (id) => document.getElementById(id);
  const FRAME_MAX = 640;        // longest side of a frame sent to the server (px)
  const FRAME_QUALITY = 0.8;    // JPEG quality of that frame
  const PAUSE = 200;            // ms between two frames, after the answer to the last one
  let stream = null, running = false, detector = null;
  let read = new Set(), seenTexts = new Set(), total = { added: [], skipped: [] };
  // For tests and the bench: how many frames went to the server, their bytes, the request times.
  const stats = AV.scanStats = { mode: null, frames: 0, bytes: 0, request_ms: 0 };
  const canvas = document.createElement("canvas");
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const status = (text) => { $("scan-status").textContent = text; };

  function why(e) {
    switch (e && e.name) {
      case "NotAllowedError": case "SecurityError": return T.scan_denied;
      case "NotFoundError": case "OverconstrainedError": return T.scan_no_camera;
      case "NotReadableError": case "AbortError": return T.scan_busy;
      default: return T.scan_failed;
    }
  }

  /* The camera cannot be used: say why, and make the file picker the thing to tap. */
  function fail(text) {
    stop();
    $("scan-error").textContent = text;
    $("file-label").classList.add("primary");
    $("scan-camera").classList.remove("primary");   // one primary button: the one that works here
    $("file-label").focus();
  }

  async function makeDetector() {
    if (!("BarcodeDetector" in window)) return null;
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      return formats.includes("qr_code") ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
    } catch (e) { return null; }
  }

  async function start() {
    $("scan-error").textContent = "";
    if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      fail(T.scan_insecure); return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: false, video: {
        facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } } });
    } catch (e) { fail(why(e)); return; }
    read = new Set(); seenTexts = new Set(); total = { added: [], skipped: [] };
    const video = $("scan-video");
    video.srcObject = stream;
    $("scanner").hidden = false; $("scan-camera").hidden = true;
    try { await video.play(); } catch (e) { /* autoplay with muted + playsinline: plays anyway */ }
    detector = await makeDetector();
    stats.mode = detector ? "browser" : "server";
    running = true;
    status(T.scan_looking);
    $("scanner").scrollIntoView({ behavior: "smooth", block: "center" });
    loop();
  }

  function stop() {
    running = false;
    if (stream) { for (const track of stream.getTracks()) track.stop(); stream = null; }
    $("scan-video").srcObject = null;
    $("scanner").hidden = true; $("scan-camera").hidden = false;
  }

  function frameBlob(video) {
    const w = video.videoWidth, h = video.videoHeight;
    if (!w || !h) return Promise.resolve(null);
    const k = Math.min(1, FRAME_MAX / Math.max(w, h));
    canvas.width = Math.round(w * k); canvas.height = Math.round(h * k);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", FRAME_QUALITY));
  }

  /* One look: null while no (new) code is in view, else the server's answer. */
  async function once() {
    const video = $("scan-video");
    const fd = new FormData();
    fd.append("read", [...read].join(","));
    if (detector) {
      let codes = [];
      try { codes = await detector.detect(video); } catch (e) { return null; }
      const text = codes.map((c) => c.rawValue).find((t) => t && !seenTexts.has(t));
      if (!text) return null;
      seenTexts.add(text);                      // the same code in view is sent once
      fd.append("text", text);
    } else {
      const blob = await frameBlob(video);
      if (!blob) return null;
      stats.frames += 1; stats.bytes += blob.size;
      fd.append("file", blob, "frame.jpg");
    }
    const t0 = performance.now();
    try { return await AV.api("POST", "/api/accounts/scan-frame", fd); }
    finally { stats.request_ms += performance.now() - t0; }
  }

  async function loop() {
    while (running) {
      let res = null;
      try { res = await once(); }
      catch (e) {
        if (e.status === 401) { location.href = "/"; return; }   // locked meanwhile
        status(e.message);                      // e.g. a code that holds a web address: say so, keep looking
        await sleep(1200);
      }
      if (!running) return;
      if (res && res.found && done(res)) return;
      await sleep(PAUSE);
    }
  }

  /* A code was read: true when scanning is over (an account, or the export's last batch). */
  function done(res) {
    total.added.push(...res.added);
    total.skipped.push(...res.skipped);
    const b = res.batch;
    if (b && b.size > 1) {
      read.add(b.id + ":" + b.index);
      const have = [...read].filter((k) => k.startsWith(b.id + ":")).length;
      if (have < b.size) {
        status(AV.fill(res.already_read ? T.scan_batch_again : T.scan_batch, { index: b.index + 1, size: b.size }));
        return false;
      }
    }
    stop();
    AV.afterAdd(total);                         // accounts.js: back on the list, or the result with reasons
    return true;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const btn = $("scan-camera");
    if (!btn) return;
    btn.hidden = false;
    btn.addEventListener("click", start);
    $("scan-stop").addEventListener("click", stop);
    // A phone that locks or switches apps: the camera goes off (it is turned on again by a tap).
    document.addEventListener("visibilitychange", () => { if (document.hidden && running) stop(); });
    addEventListener("pagehide", () => { if (running) stop(); });
  });
})();
