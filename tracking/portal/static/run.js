/* The run page: a chart of each metric that was logged more than once, by step. A long
   history comes sampled; dragging across its chart loads those steps from the API (in
   full, or sampled again if there are still too many), and "Whole series" goes back. */
(function () {
  "use strict";
  const P = window.Portal;
  const data = JSON.parse(document.getElementById("page-data").textContent);
  const api = "/api/runs/" + encodeURIComponent(data.runId) + "/history";

  function draw(container, name, values, onSelect) {
    P.plot(container, {
      xs: values.map((v) => v[0]),
      ys: values.map((v) => P.finiteOrNull(v[1])),
      xLabel: "step",
      integerX: true,
      yLabel: name,
      onSelect: onSelect,
    });
  }

  function count(n) {
    return Number(n).toLocaleString("en-US");
  }

  function describe(name, range) {
    const steps = "steps " + count(range.start) + "–" + count(range.end);
    if (!range.sampled) return name + " by step, " + steps + ": all " + count(range.inRange) + " values";
    return name + " by step, " + steps + " (sampled: " + count(range.points.length) + " of " +
      count(range.inRange) + " values; drag again to narrow)";
  }

  function setUp(container) {
    const name = container.dataset.metric;
    const figure = container.closest("figure");
    const caption = figure.querySelector(".history-caption");
    const whole = figure.querySelector(".history-whole");
    const first = caption.textContent;
    const values = data.history[name] || [];
    if (!container.dataset.sampled) {
      draw(container, name, values, null);
      return;
    }
    async function load(from, to) {
      const start = Math.max(0, Math.ceil(from));
      const end = Math.max(start, Math.floor(to));
      const url = api + "?metric=" + encodeURIComponent(name) + "&start=" + start + "&end=" + end;
      container.dataset.loading = "true";
      try {
        const range = (await P.getJSON(url)).metrics[name];
        range.start = start;
        range.end = end;
        draw(container, name, range.points, onSelect);
        caption.textContent = describe(name, range);
        container.dataset.range = start + "-" + end;
        whole.hidden = false;
      } catch (error) {
        caption.textContent = first + " — " + error.message;
      } finally {
        delete container.dataset.loading;
      }
    }
    function onSelect(from, to) {
      load(from, to);
    }
    whole.addEventListener("click", () => {
      draw(container, name, values, onSelect);
      caption.textContent = first;
      delete container.dataset.range;
      whole.hidden = true;
    });
    draw(container, name, values, onSelect);
  }

  for (const container of document.querySelectorAll(".history-plot")) setUp(container);
})();
