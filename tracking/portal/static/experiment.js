/* The experiment page: charts of a chosen metric, the best-run tile, and a runs table that
   follows the records by polling the JSON API (no full reload). The table's first draw comes
   from the server; this script redraws it with the same columns and formats. */
(function () {
  "use strict";
  const P = window.Portal;
  const el = P.el;
  const data = JSON.parse(document.getElementById("page-data").textContent);
  const api = "/api/experiments/" + encodeURIComponent(data.name);
  const query = new URLSearchParams(data.query);
  const metricSelect = document.getElementById("chart-metric");
  const xSelect = document.getElementById("chart-x");
  const goalSelect = document.getElementById("chart-goal");
  const refreshState = document.getElementById("refresh-state");
  const storageKey = "portal:chart:" + data.name;
  let metrics = data.metrics;
  let params = data.params;
  let lastPage = null;
  let lastRunCount = null;
  let lastRunning = 0;
  let polls = 0;
  let chartsStale = false;
  let chartAt = 0; // when the charts were last loaded (performance.now())
  let chartMs = 0; // and how long that took

  // -- charts ------------------------------------------------------------------------------
  function fillMenus() {
    const chosen = { metric: metricSelect.value, x: xSelect.value };
    metricSelect.replaceChildren(...metrics.map((m) => el("option", { value: m, text: m })));
    xSelect.replaceChildren(
      ...params.map((p) => el("option", { value: "param:" + p, text: "param " + p })),
      ...metrics.map((m) => el("option", { value: "metric:" + m, text: "metric " + m }))
    );
    if (metrics.includes(chosen.metric)) metricSelect.value = chosen.metric;
    if ([...xSelect.options].some((o) => o.value === chosen.x)) xSelect.value = chosen.x;
  }

  function restoreChoice() {
    let saved = {};
    try {
      saved = JSON.parse(sessionStorage.getItem(storageKey) || "{}");
    } catch (e) {
      saved = {};
    }
    const metric = saved.metric || data.chartMetric;
    if (metric && metrics.includes(metric)) metricSelect.value = metric;
    const options = [...xSelect.options].map((o) => o.value);
    const fallback = options.find((v) => v !== "metric:" + metricSelect.value);
    xSelect.value = options.includes(saved.x) ? saved.x : fallback || options[0] || "";
    goalSelect.value = saved.metric === metricSelect.value && saved.goal ? saved.goal : defaultGoal();
  }

  function defaultGoal() {
    return metricSelect.value === data.primaryMetric ? data.primaryGoal : "min";
  }

  function chartUrl() {
    let url = api + "/chart?metric=" + encodeURIComponent(metricSelect.value);
    url += "&goal=" + encodeURIComponent(goalSelect.value);
    const [kind, ...rest] = xSelect.value.split(":");
    const name = rest.join(":");
    if (kind === "param") url += "&param=" + encodeURIComponent(name);
    if (kind === "metric") url += "&xmetric=" + encodeURIComponent(name);
    return url;
  }

  /* Open the run numbered `number`: numbers run 1, 2, 3... so it is row number-1 by number. */
  async function openRun(number) {
    const found = await P.getJSON(api + "/runs?sort=number&order=asc&limit=1&offset=" + (number - 1));
    const run = found.runs[0];
    if (run && run.number === number) window.location.href = "/runs/" + encodeURIComponent(run.runId);
  }

  function drawBest(chart) {
    const tile = document.getElementById("best-tile");
    const goal = chart.goal === "max" ? "highest" : "lowest";
    const label = el("span", { className: "label" }, [
      "Best run by ",
      el("span", { id: "best-metric", text: chart.metric }),
      " (" + goal + ")",
    ]);
    let value;
    if (chart.best) {
      value = el("span", { className: "value" }, [
        el("a", {
          id: "best-run-link",
          href: "/runs/" + encodeURIComponent(chart.best.runId),
          text: "Run " + chart.best.number,
        }),
        el("span", { id: "best-value", text: P.fmtNumber(P.toNumber(chart.best.value)) }),
      ]);
    } else {
      value = el("span", { className: "value muted", id: "best-none", text: "no finite value yet" });
    }
    tile.replaceChildren(label, value);
  }

  async function loadCharts() {
    if (!metricSelect.value) return;
    const started = performance.now();
    const chart = await P.getJSON(chartUrl());
    const xName = xSelect.value.split(":").slice(1).join(":");
    const ys = chart.y.map(P.finiteOrNull);
    const sampled = chart.every > 1
      ? " (every " + chart.every + "th of " + chart.runs.toLocaleString() + " runs, and the best)"
      : "";
    document.getElementById("chart-number-caption").textContent =
      chart.metric + " by run number" + sampled;
    P.plot(document.getElementById("chart-number-plot"), {
      xs: chart.number,
      ys: ys,
      xLabel: "run number",
      yLabel: chart.metric,
      integerX: true,
      onPick: (i) => openRun(chart.number[i]).catch(showError),
    });
    // Against a param or metric: only runs with a numeric x, sorted by x as uPlot needs.
    const order = [];
    chart.x.forEach((x, i) => {
      if (x !== null) order.push(i);
    });
    order.sort((a, b) => chart.x[a] - chart.x[b]);
    document.getElementById("chart-x-caption").textContent =
      chart.metric + " against " + (xName || "—") + sampled;
    P.plot(document.getElementById("chart-x-plot"), {
      xs: order.map((i) => chart.x[i]),
      ys: order.map((i) => ys[i]),
      xLabel: xName,
      yLabel: chart.metric,
      points: true,
      onPick: (i) => openRun(chart.number[order[i]]).catch(showError),
    });
    drawBest(chart);
    chartAt = performance.now();
    chartMs = chartAt - started;
  }

  function chartsChanged(event) {
    if (event && event.target === metricSelect) goalSelect.value = defaultGoal();
    sessionStorage.setItem(
      storageKey,
      JSON.stringify({ metric: metricSelect.value, x: xSelect.value, goal: goalSelect.value })
    );
    loadCharts().catch(showError);
  }

  // -- the runs table ----------------------------------------------------------------------
  function columns() {
    return [
      { label: "Run", sort: "number", kind: "field" },
      { label: "Run ID", sort: "run_id", kind: "field" },
      { label: "Status", sort: "status", kind: "field" },
      { label: "Started (UTC)", sort: "start_time", kind: "field" },
      { label: "Duration", sort: null, kind: "field" },
      ...params.map((p) => ({ label: p, sort: "params." + p, kind: "param", name: p })),
      ...metrics.map((m) => ({ label: m, sort: "metrics." + m, kind: "metric", name: m })),
    ];
  }

  function linkWith(changes) {
    const next = new URLSearchParams(query);
    for (const [key, value] of Object.entries(changes)) next.set(key, String(value));
    return "?" + next.toString();
  }

  function header(cols) {
    const sort = query.get("sort");
    const descending = query.get("order") === "desc";
    return el("tr", {}, cols.map((c) => {
      const active = c.sort && c.sort === sort;
      const order = active && !descending ? "desc" : "asc";
      return el("th", {
        className: c.kind + (c.kind === "metric" ? " num" : ""),
        "aria-sort": active ? (descending ? "descending" : "ascending") : null,
        "data-sort": c.sort || "",
      }, [
        c.sort
          ? el("a", { className: "sort-link", href: linkWith({ sort: c.sort, order: order, offset: 0 }), text: c.label })
          : c.label,
      ]);
    }));
  }

  function row(run, cols, fresh) {
    const href = "/runs/" + encodeURIComponent(run.runId);
    const cells = [
      el("td", { className: "field" }, [
        el("a", { href: href, text: String(run.number) }),
        ...(run.runType === "hyperdrive" ? [el("span", { className: "kind", text: "sweep" })] : []),
      ]),
      el("td", { className: "field mono" }, [el("a", { href: href, text: run.runId })]),
      el("td", { className: "field" }, [
        el("span", { className: "status status-" + run.status.toLowerCase(), text: run.status }),
      ]),
      el("td", { className: "field", text: P.fmtTime(run.startTimeUtc) }),
      el("td", { className: "field", text: P.fmtDuration(run.durationSeconds) }),
    ];
    for (const c of cols) {
      if (c.kind === "param") cells.push(el("td", { className: "param", text: P.fmtParam(run.params[c.name]) }));
    }
    for (const c of cols) {
      if (c.kind === "metric") {
        cells.push(el("td", { className: "metric num", text: P.fmtNumber(run.metrics[c.name]) }));
      }
    }
    return el("tr", { "data-run-id": run.runId, "data-status": run.status, className: fresh ? "fresh" : null }, cells);
  }

  function drawTable(page) {
    const table = document.getElementById("runs-table");
    const cols = columns();
    const before = new Set([...table.tBodies[0].rows].map((r) => r.dataset.runId));
    const rows = page.runs.map((run) => row(run, cols, lastPage !== null && !before.has(run.runId)));
    if (!rows.length) {
      const status = query.get("status");
      const text = "No runs" + (status ? " with status " + status : "") + ".";
      rows.push(el("tr", { className: "empty-row" }, [el("td", { colspan: String(cols.length), text: text })]));
    }
    table.tHead.replaceChildren(header(cols));
    table.tBodies[0].replaceChildren(...rows);
    drawPager(page.total);
  }

  function drawPager(total) {
    const offset = Number(query.get("offset") || 0);
    const limit = Number(query.get("limit") || 50);
    const shown = Math.max(0, Math.min(limit, total - offset));
    const info = total ? offset + 1 + "–" + (offset + shown) + " of " + total : "0 runs";
    const previous = offset > 0
      ? el("a", { id: "prev-page", href: linkWith({ offset: Math.max(0, offset - limit) }), text: "‹ Previous" })
      : el("span", { className: "muted", text: "‹ Previous" });
    const next = offset + limit < total
      ? el("a", { id: "next-page", href: linkWith({ offset: offset + limit }), text: "Next ›" })
      : el("span", { className: "muted", text: "Next ›" });
    document.getElementById("pager").replaceChildren(previous, el("span", { id: "page-info", text: info }), next);
  }

  // -- polling -----------------------------------------------------------------------------
  function showError(error) {
    refreshState.textContent = "refresh failed: " + error.message;
  }

  async function poll() {
    const [experiment, page] = await Promise.all([
      P.getJSON(api),
      P.getJSON(api + "/runs?" + query.toString()),
    ]);
    document.getElementById("tile-total").textContent = String(experiment.runCount);
    document.getElementById("tile-running").textContent = String(experiment.runningCount);
    document.getElementById("tile-queued").textContent = String(experiment.queuedCount);
    document.getElementById("tile-activity").textContent = P.fmtTime(experiment.lastActivityUtc);
    const newColumns =
      experiment.metrics.join("\n") !== metrics.join("\n") || experiment.params.join("\n") !== params.join("\n");
    if (newColumns) {
      metrics = experiment.metrics;
      params = experiment.params;
      fillMenus();
      if (!metricSelect.value && metrics.length) restoreChoice();
      const empty = document.getElementById("charts-empty");
      if (empty && metrics.length) empty.remove();
    }
    const signature = JSON.stringify([page.total, page.runs.map((r) => [r.runId, r.status, r.metrics, r.params])]);
    if (newColumns || signature !== lastPage) {
      drawTable(page);
    }
    lastPage = signature;
    // Charts follow while runs are running or queued, and once more when the last one
    // finishes; a chart that is slow to load (100,000 runs) is reloaded at most every 10
    // load times.
    const open = experiment.runningCount + experiment.queuedCount;
    if (newColumns || open > 0 || lastRunning > 0 || experiment.runCount !== lastRunCount) {
      chartsStale = true;
    }
    const due = performance.now() - chartAt >= Math.max(data.refreshMs, 10 * chartMs);
    if (chartsStale && (newColumns || due)) {
      chartsStale = false;
      await loadCharts();
    }
    lastRunning = open;
    lastRunCount = experiment.runCount;
    polls += 1;
    document.body.dataset.polls = String(polls);
    refreshState.textContent = "updated " + new Date().toLocaleTimeString();
  }

  function schedule() {
    setTimeout(async () => {
      if (!document.hidden) {
        try {
          await poll();
        } catch (error) {
          showError(error);
        }
      }
      schedule();
    }, data.refreshMs);
  }

  metricSelect.addEventListener("change", chartsChanged);
  xSelect.addEventListener("change", chartsChanged);
  goalSelect.addEventListener("change", chartsChanged);
  document.getElementById("status-select").addEventListener("change", (event) => {
    event.target.form.submit();
  });
  restoreChoice();
  loadCharts()
    .then(() => {
      lastRunCount = Number(document.getElementById("tile-total").textContent);
      lastRunning =
        Number(document.getElementById("tile-running").textContent) +
        Number(document.getElementById("tile-queued").textContent);
      document.body.dataset.chartsMs = String(performance.now());
      document.body.dataset.charts = "drawn";
    })
    .catch(showError);
  schedule();
})();
