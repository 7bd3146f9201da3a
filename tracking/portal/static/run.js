/* The run page: a chart of each metric that was logged more than once, by step. */
(function () {
  "use strict";
  const P = window.Portal;
  const data = JSON.parse(document.getElementById("page-data").textContent);
  for (const container of document.querySelectorAll(".history-plot")) {
    const name = container.dataset.metric;
    const values = data.history[name] || [];
    P.plot(container, {
      xs: values.map((v) => v[0]),
      ys: values.map((v) => P.finiteOrNull(v[1])),
      xLabel: "step",
      integerX: true,
      yLabel: name,
    });
  }
})();
