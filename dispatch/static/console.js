/* Staff console: the phone form's live category suggestion. Vanilla JS, no dependencies. */
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

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("phone-form");
    if (form) initSuggest(form);
  });
})();
