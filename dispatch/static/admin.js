/* District admin pages: the notification preview follows the drop-downs; the calendar's day editor and filters. */
(function () {
  "use strict";

  function followPreview(form) {
    var message = form.closest(".message");
    if (!message) return;
    form.querySelectorAll("select[name=field_source]").forEach(function (select, index) {
      select.addEventListener("change", function () {
        var cell = message.querySelector('[data-preview-field="' + index + '"] dd');
        var source = document.getElementById("samples");
        var samples = source ? JSON.parse(source.textContent)[select.getAttribute("data-type")] || {} : {};
        if (cell) cell.textContent = samples[select.value] || "-";
      });
    });
  }

  function filterRows(input) {
    var rows = document.querySelectorAll(input.getAttribute("data-filter"));
    var empty = document.querySelector(input.getAttribute("data-empty"));
    function apply() {
      var word = input.value.trim();
      var shown = 0;
      rows.forEach(function (row) {
        var hit = !word || (row.getAttribute("data-name") || "").indexOf(word) >= 0;
        row.hidden = !hit;
        if (hit) shown++;
      });
      if (empty) empty.hidden = shown > 0;
    }
    input.addEventListener("input", apply);
    apply();
  }

  function dayEditor(panel) {
    var form = panel.querySelector("form");
    document.querySelectorAll("a[data-day]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        document.querySelectorAll("a[data-day].chosen").forEach(function (a) { a.classList.remove("chosen"); });
        link.classList.add("chosen");
        form.querySelector("[name=day]").value = link.getAttribute("data-day");
        panel.querySelector("[data-day-label]").textContent = link.getAttribute("data-label");
        var kind = link.getAttribute("data-kind") || "holiday";
        form.querySelectorAll("[name=kind]").forEach(function (radio) { radio.checked = radio.value === kind; });
        form.querySelector("[name=name]").value = link.getAttribute("data-name") || "";
        panel.querySelector("[data-day-now]").textContent = link.getAttribute("data-now");
        form.hidden = false;
        form.querySelector("[name=name]").focus();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-form=mapping]").forEach(followPreview);
    var here = document.querySelector("details.message[open] [data-here]");
    if (here) here.closest("details").scrollIntoView();
    document.querySelectorAll("input[data-filter]").forEach(filterRows);
    var panel = document.getElementById("day-editor");
    if (panel) dayEditor(panel);
  });
})();
