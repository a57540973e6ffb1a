/* Staff console: the phone form's live category suggestion and the queue's live poll. Vanilla JS, no dependencies. */
(function () {
  "use strict";

  var DELAY_MS = 300;

  function setSelect(select, value) {
    if (!select || !value) return;
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === value) { select.value = value; return; }
    }
  }

  function initSuggest(form) {
    var text = form.querySelector("#description");
    var box = form.querySelector("#suggestion");
    if (!text || !box) return;
    var label = box.querySelector(".suggestion-text");
    var terms = box.querySelector(".suggestion-terms");
    var adopt = box.querySelector(".adopt");
    var url = form.getAttribute("data-suggest-url");
    var timer = null, controller = null, latest = null;

    function show(data) {
      latest = data;
      if (!data || !data.category) { box.hidden = true; return; }
      label.textContent = data.category_name + " · " + data.priority_label;
      terms.textContent = data.urgent_terms.length ? "（紧急词：" + data.urgent_terms.join("、") + "）" : "";
      box.classList.toggle("is-urgent", data.priority === "urgent");
      adopt.disabled = false;
      adopt.textContent = "采用";
      box.hidden = false;
    }

    function ask() {
      var value = text.value.trim();
      if (!value) { show(null); return; }
      if (controller) controller.abort();
      controller = typeof AbortController === "function" ? new AbortController() : null;
      fetch(url + "?text=" + encodeURIComponent(value), {
        credentials: "same-origin",
        headers: { "Accept": "application/json" },
        signal: controller ? controller.signal : undefined
      }).then(function (response) {
        return response.ok ? response.json() : null;
      }).then(show).catch(function () { /* a newer request replaced this one, or the network failed */ });
    }

    text.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, DELAY_MS);
    });

    adopt.addEventListener("click", function () {
      if (!latest) return;
      setSelect(form.querySelector("#category"), latest.category);
      setSelect(form.querySelector("#priority"), latest.priority);
      adopt.textContent = "已采用";
      adopt.disabled = true;
    });

    if (text.value.trim()) ask();
  }

  /* The queue's live poll: every few seconds a tiny request asks what changed in the caller's scope since the
     cursor (a 304 when nothing did); new and changed tickets raise a banner, an urgent one a beep and a flashing
     title. window.dispatchQueue.poll() runs one poll at once (tests call it instead of waiting). */
  function initLive(box) {
    var url = box.getAttribute("data-changes-url");
    var cursor = box.getAttribute("data-cursor");
    var loadedAt = Number(cursor);
    var seconds = Number(box.getAttribute("data-poll-seconds")) || 15;
    var banner = document.getElementById("live-banner");
    var text = banner.querySelector(".live-text");
    var onPage = {}, seen = {}, fresh = {}, changed = {}, etag = null, busy = null;
    var title = document.title, flashing = null, audio = null;

    Array.prototype.forEach.call(document.querySelectorAll("tr[data-id]"), function (row) {
      onPage[row.getAttribute("data-id")] = true;
      seen[row.getAttribute("data-id")] = Number(row.getAttribute("data-version"));
    });

    function count(map) { return Object.keys(map).length; }

    function beep() {
      window.dispatchQueue.beeps += 1;
      try {
        audio = audio || new (window.AudioContext || window.webkitAudioContext)();
        if (audio.state === "suspended") audio.resume();
        [0, 0.35].forEach(function (start) {
          var osc = audio.createOscillator(), gain = audio.createGain();
          osc.type = "sine";
          osc.frequency.value = 880;
          gain.gain.setValueAtTime(0.0001, audio.currentTime + start);
          gain.gain.exponentialRampToValueAtTime(0.3, audio.currentTime + start + 0.02);
          gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + start + 0.25);
          osc.connect(gain).connect(audio.destination);
          osc.start(audio.currentTime + start);
          osc.stop(audio.currentTime + start + 0.3);
        });
      } catch (e) { /* no sound on this browser: the banner and the title still say it */ }
    }

    function flashTitle(words) {
      if (flashing) return;
      var on = false;
      flashing = setInterval(function () {
        on = !on;
        document.title = on ? "【" + words + "】" + title : title;
      }, 1000);
    }

    function stopFlashing() {
      if (!flashing || document.hidden) return;
      clearInterval(flashing);
      flashing = null;
      document.title = title;
    }

    function show(urgent) {
      var words = [];
      if (count(fresh)) words.push(count(fresh) + " 条新工单");
      if (count(changed)) words.push(count(changed) + " 条工单有变化");
      if (!words.length) return;
      text.textContent = words.join("，");
      banner.classList.toggle("is-urgent", urgent || banner.classList.contains("is-urgent"));
      banner.hidden = false;
      if (urgent) {
        beep();
        flashTitle("紧急工单");
      }
    }

    function take(body) {
      var urgent = false;
      cursor = String(body.cursor);
      body.items.forEach(function (item) {
        var id = String(item.id);
        if (item.updated <= loadedAt || seen[id] >= item.version) return;
        seen[id] = item.version;
        if (!onPage[id] && item.awaits) {
          if (!fresh[id] && item.urgent) urgent = true;
          fresh[id] = true;
          delete changed[id];
        } else if (!fresh[id]) {
          changed[id] = true;
        }
      });
      show(urgent);
    }

    function poll() {
      if (busy) return busy;
      var headers = { "Accept": "application/json" };
      if (etag) headers["If-None-Match"] = etag;
      busy = fetch(url + "?since=" + encodeURIComponent(cursor), {
        credentials: "same-origin", cache: "no-store", headers: headers
      }).then(function (response) {
        if (response.status !== 200) return null;
        etag = response.headers.get("ETag");
        return response.json();
      }).then(function (body) {
        if (body) take(body);
      }).catch(function () { /* offline for a moment: the next poll tries again */ }).then(function () {
        busy = null;
      });
      return busy;
    }

    banner.querySelector("button").addEventListener("click", function () { window.location.reload(); });
    document.addEventListener("visibilitychange", stopFlashing);
    window.addEventListener("focus", stopFlashing);
    document.addEventListener("click", stopFlashing);  /* seen: someone is at the screen */
    /* Browsers play sound only after the page was touched: any click or key readies it. */
    ["click", "keydown"].forEach(function (kind) {
      document.addEventListener(kind, function ready() {
        try { audio = audio || new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { /* none */ }
        document.removeEventListener(kind, ready);
      });
    });
    setInterval(poll, seconds * 1000);
    window.dispatchQueue = { poll: poll, beeps: 0 };
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("phone-form");
    if (form) initSuggest(form);
    var queue = document.getElementById("queue");
    if (queue && queue.getAttribute("data-changes-url")) initLive(queue);
  });
})();
