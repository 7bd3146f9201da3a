/* Shared helpers of the portal's pages: value formatting (as the server's Jinja filters do),
   JSON fetches, DOM building and uPlot charts. No dependency but the vendored uPlot. */
(function () {
  "use strict";

  function stripZeros(text) {
    return text.indexOf(".") < 0 ? text : text.replace(/0+$/, "").replace(/\.$/, "");
  }

  /* A number as Python's "%.6g" writes it; the strings "NaN"/"Infinity" as they are. */
  function fmtNumber(v) {
    if (v === null || v === undefined) return "";
    if (typeof v !== "number") return String(v);
    if (!isFinite(v)) return isNaN(v) ? "NaN" : (v > 0 ? "Infinity" : "-Infinity");
    if (v === 0) return "0";
    const parts = v.toExponential(5).split("e");
    const exp = parseInt(parts[1], 10);
    if (exp < -4 || exp >= 6) {
      const sign = exp < 0 ? "-" : "+";
      return stripZeros(parts[0]) + "e" + sign + String(Math.abs(exp)).padStart(2, "0");
    }
    return stripZeros(v.toFixed(5 - exp));
  }

  function fmtParam(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "string") return v;
    if (typeof v === "boolean") return v ? "true" : "false";
    if (typeof v === "number") return fmtNumber(v);
    return JSON.stringify(v);
  }

  function fmtTime(iso) {
    return iso ? iso.replace("T", " ").slice(0, 19) : "";
  }

  function fmtDuration(seconds) {
    if (seconds === null || seconds === undefined) return "";
    if (seconds < 0.9995) return Math.round(seconds * 1000) + " ms";
    if (seconds < 60) return seconds.toFixed(1) + " s";
    const whole = Math.floor(seconds);
    const pad = (n) => String(n).padStart(2, "0");
    if (whole < 3600) return Math.floor(whole / 60) + "m " + pad(whole % 60) + "s";
    return Math.floor(whole / 3600) + "h " + pad(Math.floor((whole % 3600) / 60)) + "m";
  }

  /* A JSON number back from the API: "NaN"/"Infinity" strings become numbers. */
  function toNumber(v) {
    if (v === null || v === undefined) return null;
    return typeof v === "number" ? v : Number(v);
  }

  /* A value a chart can draw: non-finite values become gaps. */
  function finiteOrNull(v) {
    const n = toNumber(v);
    return n !== null && isFinite(n) ? n : null;
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children || []) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  async function getJSON(url) {
    const response = await fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      cache: "no-store",
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.error || response.status + " " + response.statusText);
    return body;
  }

  const charts = new Map();
  const WHOLE_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6];

  /* Draw (or redraw) a chart into `container`.
     opts: {xs, ys, xLabel, yLabel, points: bool (no lines), integerX: bool (ticks on whole
     numbers), onPick(index), onSelect(fromX, toX): a drag across the chart asks for that
     range instead of zooming into the points drawn} with xs ascending. */
  function plot(container, opts) {
    const old = charts.get(container);
    if (old) old.destroy();
    container.textContent = "";
    if (!opts.xs.length) {
      container.append(el("p", { className: "empty", text: "Nothing to draw yet." }));
      charts.delete(container);
      return null;
    }
    const width = Math.max(300, container.clientWidth || 480);
    // Thousands of runs: small dots without lines, or the chart is one blot of ink.
    const dense = opts.xs.length > 2000;
    const dots = opts.points || dense;
    const series = {
      label: opts.yLabel,
      stroke: "#2563eb",
      width: dots ? 0 : 1.5,
      points: { show: true, size: dense ? 2 : dots ? 6 : 4, fill: "#2563eb", stroke: "#2563eb" },
    };
    if (dots) series.paths = () => null;
    const chart = new uPlot(
      {
        width: width,
        height: 240,
        scales: { x: { time: false } },
        axes: [
          opts.integerX ? { label: opts.xLabel, incrs: WHOLE_STEPS } : { label: opts.xLabel },
          { label: opts.yLabel, size: 60 },
        ],
        series: [{ label: opts.xLabel }, series],
        cursor: opts.onSelect
          ? { points: { size: 8 }, drag: { x: true, y: false, setScale: false } }
          : { points: { size: 8 } },
        hooks: opts.onSelect ? { setSelect: [(u) => selected(u, opts.onSelect)] } : {},
        legend: { live: true },
      },
      [opts.xs, opts.ys],
      container
    );
    if (opts.onPick) {
      chart.over.style.cursor = "pointer";
      chart.over.addEventListener("click", () => {
        if (chart.cursor.idx !== null && chart.cursor.idx !== undefined) opts.onPick(chart.cursor.idx);
      });
    }
    container.dataset.points = String(opts.xs.length);
    charts.set(container, chart);
    return chart;
  }

  /* A drag across the chart: the x range it covers, handed to `onSelect`. */
  function selected(u, onSelect) {
    if (u.select.width < 3) return;
    const from = u.posToVal(u.select.left, "x");
    const to = u.posToVal(u.select.left + u.select.width, "x");
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    onSelect(from, to);
  }

  window.addEventListener("resize", () => {
    for (const [container, chart] of charts) {
      chart.setSize({ width: Math.max(300, container.clientWidth), height: 240 });
    }
  });

  window.Portal = {
    fmtNumber, fmtParam, fmtTime, fmtDuration, toNumber, finiteOrNull, el, getJSON, plot,
  };
})();
