// Draws every chart of the page with Chart.js (served by this app: static/chart.umd.min.js).
// Each <canvas data-spec="ID"> has its configuration as JSON in <script type="application/json" id="ID">:
// data, not code, so the page needs no inline script (the Content-Security-Policy allows none).
(function () {
  const palette = ["#1f5fa8", "#e07b39", "#3a9d5d", "#b8404d", "#7b5ea7", "#8c6d31", "#2b9fb5"];
  const money = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
  document.querySelectorAll("canvas[data-spec]").forEach(function (canvas) {
    const spec = JSON.parse(document.getElementById(canvas.dataset.spec).textContent);
    const datasets = spec.datasets.map(function (set, i) {
      return Object.assign({ backgroundColor: palette[i % palette.length], borderColor: palette[i % palette.length],
                             spanGaps: true }, set);
    });
    const tick = spec.percent ? function (v) { return v + " %"; } : function (v) { return money.format(v); };
    const scales = {
      x: { stacked: !!spec.stacked },
      y: { stacked: !!spec.stacked, ticks: { callback: tick }, min: spec.percent ? 0 : undefined,
           max: spec.percent ? 100 : undefined },
    };
    if (datasets.some(function (set) { return set.yAxisID === "y2"; })) {
      scales.y2 = { position: "right", grid: { drawOnChartArea: false }, ticks: { callback: tick } };
    }
    new Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: scales,
      },
    });
    canvas.dataset.drawn = "true";
  });
})();
