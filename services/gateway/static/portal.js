// Compound portal: copy buttons, the capital chart, focus after a form. Pages work without this file.
(function () {
  "use strict";

  function copyFrom(button) {
    var id = button.getAttribute("data-copy");
    var input = document.getElementById(id);
    var status = document.querySelector('[data-copy-status="' + id + '"]');
    if (!input) return;
    function done(ok) {
      if (status) status.textContent = ok ? "Copied to the clipboard." : "Select the text and copy it.";
      if (ok) button.textContent = "Copied";
    }
    input.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(function () { done(true); }, function () { done(document.execCommand("copy")); });
    } else {
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      done(ok);
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (button) copyFrom(button);
  });

  // Line styles and point shapes tell the series apart without relying on colour.
  var STYLES = {
    capability: { color: "#2f5bd3", dash: [], point: "circle" },
    visibility: { color: "#b4531b", dash: [7, 4], point: "triangle" },
    relationships: { color: "#1f7a4d", dash: [2, 3], point: "rect" }
  };

  function drawCapital() {
    var canvas = document.getElementById("capital-chart");
    var source = document.getElementById("capital-data");
    if (!canvas || !source || !window.Chart) return;
    var data = JSON.parse(source.textContent);
    var datasets = data.series.map(function (s) {
      var style = STYLES[s.key];
      return {
        label: s.label, data: s.values, borderColor: style.color, backgroundColor: style.color,
        borderDash: style.dash, pointStyle: style.point, pointRadius: 4, borderWidth: 2.5, tension: 0.25
      };
    });
    if (data.leave && data.leave.some(function (share) { return share > 0; })) {
      // Declared leave: grey bars, as tall as the share of the week away (decay pauses).
      datasets.push({
        type: "bar", label: "On leave (share of the week)", data: data.leave, yAxisID: "leave",
        backgroundColor: "rgba(120, 120, 120, 0.22)", borderWidth: 0, barPercentage: 1, categoryPercentage: 1
      });
    }
    canvas.chart = new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels.map(function (w) { return w.replace(/^\d{4}-/, ""); }),
        datasets: datasets
      },
      options: {
        maintainAspectRatio: false,
        animation: false,  // drawn at once: no motion, and screenshots show the final values
        interaction: { mode: "index", intersect: false },
        scales: {
          y: { min: 0, suggestedMax: 40, title: { display: true, text: "score (0-100)" } },
          leave: { axis: "y", position: "right", display: false, min: 0, max: 1 }
        },
        plugins: { legend: { display: false } }
      }
    });
    canvas.setAttribute("data-drawn", "true");
  }

  // After a form is sent, focus its confirmation (or the error banner), never <body>:
  // a keyboard or screen-reader user continues from what just happened.
  function focusOutcome(root) {
    var target = root.querySelector("[data-focus], .error.banner");
    if (!target) return;
    if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.focus({ preventScroll: false });
  }

  // Deferred scripts (Chart.js among them) have all run when DOMContentLoaded fires.
  document.addEventListener("DOMContentLoaded", function () {
    drawCapital();
    focusOutcome(document);
  });
  // htmx-boosted pages (today) swap their content in place: focus what the swap brought.
  document.addEventListener("htmx:afterSettle", function (event) {
    focusOutcome(event.detail.elt.isConnected ? event.detail.elt : document);
  });
})();
