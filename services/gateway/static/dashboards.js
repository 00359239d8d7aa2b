// Compound lever dashboards: the 26-week chart of a lever's detail page. The page works
// without this file: every number is in its tables. Suppressed weeks arrive as null (a gap).
(function () {
  "use strict";

  // Vertical dotted lines at team-size changes, labelled with the sizes.
  var markers = {
    id: "sizeMarkers",
    afterDatasetsDraw: function (chart, args, options) {
      var list = options.markers || [];
      var x = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = "#1a2233";
      ctx.fillStyle = "#1a2233";
      ctx.lineWidth = 1.5;
      ctx.setLineDash([3, 2]);
      ctx.font = "12px system-ui, sans-serif";
      list.forEach(function (m) {
        var px = x.getPixelForValue(m.index);
        ctx.beginPath();
        ctx.moveTo(px, area.top);
        ctx.lineTo(px, area.bottom);
        ctx.stroke();
        ctx.fillText(m.text, px + 4, area.top + 12);
      });
      ctx.restore();
    }
  };

  function drawLever() {
    var canvas = document.getElementById("lever-chart");
    var source = document.getElementById("lever-data");
    if (!canvas || !source || !window.Chart) return;
    var data = JSON.parse(source.textContent);
    canvas.chart = new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels.map(function (w) { return w.replace(/^\d{4}-/, ""); }),
        datasets: [
          {
            label: data.label, data: data.values, borderColor: "#2f5bd3", backgroundColor: "#2f5bd3",
            pointStyle: "circle", pointRadius: 3.5, borderWidth: 2.5, tension: 0.2, spanGaps: false
          },
          {
            label: data.threshold || "Nudge threshold", data: data.labels.map(function () { return data.concern; }),
            borderColor: "#a12020", borderDash: [6, 4], borderWidth: 1.5, pointRadius: 0
          }
        ]
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: { y: { min: 0, max: 100, title: { display: true, text: "0-100" } } },
        plugins: { legend: { display: false }, sizeMarkers: { markers: data.markers } }
      },
      plugins: [markers]
    });
    canvas.setAttribute("data-drawn", "true");
  }

  document.addEventListener("DOMContentLoaded", drawLever);
})();
