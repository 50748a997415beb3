// pvsim live dashboard.
//
// Data flow, without gaps or doubles: open /ws/live and keep every message in a buffer; the
// first message proves the service has subscribed us (it subscribes before sending the
// current values), so only then fetch the shown day so far; merge the fetched day and the
// buffered messages by interval_start (the later one wins, as the service upserts); from then
// on apply each message as it arrives. Charts grow with Plotly.extendTraces (a late interval
// that changes an earlier point redraws with Plotly.react); nothing is ever polled.
"use strict";

(() => {
  const config = JSON.parse(document.getElementById("pvsim-config").textContent);
  const TZ = config.timezone;
  const RATE_WINDOW_MS = 5000;
  const COLORS = { meter: "#1d4ed8", pv: "#d97706", import: "#dc2626", export: "#16a34a", battery: "#9467bd" };
  const BUILDING_COLORS = ["#1d4ed8", "#16a34a", "#d97706", "#7c3aed", "#db2777", "#0891b2", "#65a30d",
    "#b45309", "#4f46e5", "#be123c"];
  const PLOT_CONFIG = { displaylogo: false, responsive: true,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toImage"] };
  const FONT = { family: "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif", size: 12 };

  const $ = (id) => document.getElementById(id);

  // ---- local time of the site ---------------------------------------------------------------
  const localFormat = new Intl.DateTimeFormat("sv-SE", { timeZone: TZ, year: "numeric", month: "2-digit",
    day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  /** "YYYY-MM-DD HH:MM:SS", the site's wall-clock time of epoch ``ms`` (what Plotly's date axis reads). */
  const localString = (ms) => localFormat.format(new Date(ms));
  const localDate = (ms) => localString(ms).slice(0, 10);
  const nextDate = (day) => {
    const d = new Date(`${day}T12:00:00Z`);
    d.setUTCDate(d.getUTCDate() + 1);
    return d.toISOString().slice(0, 10);
  };
  const weekday = (day) => new Date(`${day}T12:00:00Z`).toLocaleDateString("en-GB", { weekday: "short", timeZone: "UTC" });

  // ---- state -------------------------------------------------------------------------------
  const state = {
    meter: null,            // shown meter id
    day: null,              // shown local day "YYYY-MM-DD"
    follow: true,           // switch to the meter's newest day as it arrives
    intervals: new Map(),   // epoch ms of interval_start -> interval (shown meter and day)
    grid: new Map(),        // epoch ms -> grid result (shown day)
    runs: [],               // completed runs of the shown meter overlapping the day
    dayStart: null,         // epoch ms of the shown day's local midnights (from the service)
    dayEnd: null,
    buffer: [],             // live messages held while a day is being fetched (null: applying live)
    loadToken: 0,
    meters: new Map(),      // meter id -> {first, last} (epoch ms)
    simulations: new Map(), // id -> simulation
    rate: [],               // [wall ms, readings] of interval results received
    received: 0,            // interval results received live since the page opened
    connected: false,       // a message came through /ws/live
    countLive: false,       // after the first "stats" of a connection (the current values are not news)
    stats: null,
    power: { plotted: -Infinity, pending: [], redraw: true, battery: false },
    volts: { plotted: -Infinity, pending: [], redraw: true, buildings: [] },
    frame: 0,
    drawn: [],              // [epoch ms of interval_start, wall ms when on screen] (for measurements)
    firstNumbersAt: null,   // performance.now() when the day's first figures were on screen
    firstDataAt: null,      // performance.now() when the first point was drawn in the power chart
  };

  // ---- Plotly: the basic bundle (1.2 MB), preloaded by the page and run at once, while the live
  // socket connects and the day is fetched; the figures need no Plotly and are shown as soon as
  // the day is there, the charts once both are ready.
  const plotlyReady = new Promise((resolve, reject) => {
    performance.mark("pvsim:plotly-start");
    const script = document.createElement("script");
    script.src = "/dashboard/plotly-basic.min.js";
    script.onload = () => { performance.mark("pvsim:plotly-ready"); resolve(window.Plotly); };
    script.onerror = () => reject(new Error("plotly-basic.min.js did not load"));
    document.head.appendChild(script);
  });

  // ---- HTTP --------------------------------------------------------------------------------
  async function getJSON(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`${url}: ${response.status} ${(await response.json()).detail || ""}`);
    return response.json();
  }

  // ---- energy balance ----------------------------------------------------------------------
  /** Time between readings [s]: from a completed run, else inferred from the intervals (a full
   * interval holds interval_s / reading interval readings; with one reading per interval, the
   * smallest gap between interval starts). */
  function readingIntervalS(sorted) {
    if (state.runs.length) return state.runs[state.runs.length - 1].interval_s;
    if (!sorted.length) return 1;
    let most = 0;
    for (const i of sorted) most = Math.max(most, i.readings);
    if (most > 1) return sorted[0].interval_s / most;
    let gap = Infinity;
    for (let k = 1; k < sorted.length; k++) gap = Math.min(gap, (sorted[k].key - sorted[k - 1].key) / 1000);
    return Number.isFinite(gap) ? gap : sorted[0].interval_s;
  }

  /** The day's balance [kWh, %] from interval means: a mean times its readings is the sum of the
   * readings' powers, so the energies equal the PV simulator's summary.json (which integrates the
   * 1-s rows). Imported/exported need the means of net's positive and negative parts
   * (import_power_kw/export_power_kw); without them they come from the means of net, which
   * cancel where net changes sign within an interval (then marked approximate). */
  function balance(sorted) {
    let consumed = 0; let pv = 0; let imported = 0; let exported = 0; let readings = 0; let exact = true;
    for (const i of sorted) {
      const n = i.readings;
      consumed += i.meter_power_kw * n;
      pv += i.pv_power_kw * n;
      if (i.import_power_kw != null && i.export_power_kw != null) {
        imported += i.import_power_kw * n;
        exported += i.export_power_kw * n;
      } else {
        exact = false;
        if (i.net_power_kw > 0) imported += i.net_power_kw * n; else exported -= i.net_power_kw * n;
      }
      readings += n;
    }
    const h = readingIntervalS(sorted) / 3600;
    consumed *= h; pv *= h; imported *= h; exported *= h;
    return {
      consumed, pv, imported, exported, readings, exact,
      selfConsumption: pv > 0 ? (100 * (pv - exported)) / pv : null,
      selfSufficiency: consumed > 0 ? (100 * (consumed - imported)) / consumed : null,
    };
  }

  const fixed1 = (value) => (value == null ? "–" : value.toFixed(1));

  function showBalance(sorted) {
    if (!sorted.length) {
      for (const id of ["consumed-kwh", "pv-kwh", "imported-kwh", "exported-kwh", "self-consumption",
        "self-sufficiency"]) $(id).textContent = "–";
      $("balance-note").hidden = true;
      return;
    }
    const b = balance(sorted);
    $("consumed-kwh").textContent = fixed1(b.consumed);
    $("pv-kwh").textContent = fixed1(b.pv);
    $("imported-kwh").textContent = fixed1(b.imported);
    $("exported-kwh").textContent = fixed1(b.exported);
    $("self-consumption").textContent = fixed1(b.selfConsumption);
    $("self-sufficiency").textContent = fixed1(b.selfSufficiency);
    $("balance-scope").textContent = readingsMissing() === 0 ? "(whole day)" : "(day so far)";
    const note = $("balance-note");
    note.hidden = b.exact;
    note.textContent = b.exact ? "" : "≈ imported/exported from interval means (the feed lacks import/export means)";
  }

  // ---- pipeline figures --------------------------------------------------------------------
  function showPipeline() {
    const now = performance.now();
    while (state.rate.length && state.rate[0][0] < now - RATE_WINDOW_MS) state.rate.shift();
    let readings = 0;
    for (const [, n] of state.rate) readings += n;
    $("readings-per-s").textContent = Math.round(readings / (RATE_WINDOW_MS / 1000)).toLocaleString("en-US");
    $("day-intervals").textContent = state.intervals.size.toLocaleString("en-US");
    $("received-intervals").textContent = state.received.toLocaleString("en-US");
    const dead = state.stats ? state.stats.dead_letters : null;
    $("dead-letters").textContent = dead == null ? "–" : dead.toLocaleString("en-US");
    const run = $("run-status");
    const missing = readingsMissing();
    if (missing === 0) {
      run.textContent = "complete";
      run.className = "badge badge-ok";
    } else if (missing != null) {
      run.textContent = `incomplete: ${missing.toLocaleString("en-US")} readings missing`;
      run.className = "badge badge-bad";
    } else if (state.intervals.size) {
      run.textContent = "running";
      run.className = "badge badge-wait";
    } else {
      run.textContent = "no data";
      run.className = "badge";
    }
  }

  /** The live grid trails the intervals when its power flows are slower than the feed: say how far it got. */
  function showGridExtent() {
    let last = -Infinity;
    for (const key of state.grid.keys()) last = Math.max(last, key);
    let newest = -Infinity;
    for (const key of state.intervals.keys()) newest = Math.max(newest, key);
    // a few intervals behind is the normal pipelining; say so only when it trails by more
    $("grid-until").textContent = Number.isFinite(last) && newest - last > 5 * 60 * 1000
      ? `· up to ${localString(last).slice(11, 16)}` : "";
  }

  // ---- charts ------------------------------------------------------------------------------
  const sortedIntervals = () => [...state.intervals.values()].sort((a, b) => a.key - b.key);
  const sortedGrid = () => [...state.grid.values()].sort((a, b) => a.key - b.key);

  /** Top of the state-of-charge axis [kWh]: room above the highest value (redrawn when a value passes it). */
  const socTop = (soc) => soc.reduce((top, v) => (v != null && v > top ? v : top), 0.001) * 1.15;

  /** Whether some interval carries a battery (its fields are absent or null without one). */
  const hasBattery = (rows) => rows.some((i) => i.battery_power_kw != null || i.battery_soc_kwh != null);

  function powerColumns(rows) {
    const x = []; const meter = []; const pv = []; const imp = []; const exp = []; const battery = []; const soc = [];
    const socX = [];  // the state of charge is the one at the interval's end
    for (const i of rows) {
      x.push(i.local);
      meter.push(i.meter_power_kw);
      pv.push(i.pv_power_kw);
      imp.push(i.net_power_kw > 0 ? i.net_power_kw : 0);
      exp.push(i.net_power_kw < 0 ? i.net_power_kw : 0);
      battery.push(i.battery_power_kw ?? null);
      soc.push(i.battery_soc_kwh ?? null);
      socX.push(localString(i.key + i.interval_s * 1000));
    }
    return { x, meter, pv, imp, exp, battery, soc, socX };
  }

  function dayAxis(title) {
    const day = state.day || localDate(Date.now());
    return { title: { text: title }, type: "date", range: [`${day} 00:00`, `${nextDate(day)} 00:00`],
      tickformat: "%H:%M", hoverformat: "%H:%M", dtick: 3 * 3600 * 1000, showgrid: true, gridcolor: "#eef0f3",
      zeroline: false, fixedrange: false };
  }

  function axisTitleX() { return `local time (${TZ})`; }

  function powerFigure(rows) {
    const c = powerColumns(rows);
    const step = { shape: "hv", width: 1.3 };
    // fills first, so the meter and PV lines stay on top of them
    const data = [
      { name: "net > 0: import from grid", x: c.x, y: c.imp, type: "scatter", mode: "lines", fill: "tozeroy",
        line: { shape: "hv", width: 0, color: COLORS.import }, fillcolor: "rgba(220,38,38,0.28)",
        hovertemplate: "%{y:.2f} kW<extra>import</extra>" },
      { name: "net < 0: export to grid", x: c.x, y: c.exp, type: "scatter", mode: "lines", fill: "tozeroy",
        line: { shape: "hv", width: 0, color: COLORS.export }, fillcolor: "rgba(22,163,74,0.30)",
        hovertemplate: "%{y:.2f} kW<extra>export</extra>" },
      { name: "meter (consumption)", x: c.x, y: c.meter, type: "scatter", mode: "lines",
        line: { ...step, color: COLORS.meter }, hovertemplate: "%{y:.2f} kW<extra>meter</extra>" },
      { name: "PV", x: c.x, y: c.pv, type: "scatter", mode: "lines", line: { ...step, width: 2.2, color: COLORS.pv },
        hovertemplate: "%{y:.2f} kW<extra>PV</extra>" },
    ];
    // a battery (as in the report's figure): its power beside the others, its state of charge dashed on
    // a second axis; net above already counts it (net = meter − PV + battery)
    const battery = hasBattery(rows);
    if (battery) {
      data.push(
        { name: "battery (+ charging)", x: c.x, y: c.battery, type: "scatter", mode: "lines",
          line: { ...step, color: COLORS.battery }, hovertemplate: "%{y:.2f} kW<extra>battery</extra>" },
        { name: "battery state of charge (right axis)", x: c.socX, y: c.soc, type: "scatter", mode: "lines",
          yaxis: "y2", line: { shape: "linear", width: 1.6, dash: "dash", color: COLORS.battery },
          hovertemplate: "%{y:.2f} kWh<extra>state of charge</extra>" });
    }
    const layout = {
      uirevision: `${state.meter}/${state.day}`, font: FONT, margin: { l: 56, r: battery ? 64 : 12, t: 8, b: 44 },
      xaxis: dayAxis(axisTitleX()),
      yaxis: { title: { text: "power [kW]" }, zeroline: true, zerolinecolor: "#9ca3af", gridcolor: "#eef0f3",
        rangemode: "tozero" },
      ...(battery ? { yaxis2: { title: { text: "battery state of charge [kWh]" }, overlaying: "y", side: "right",
        range: [0, socTop(c.soc)], tickmode: "auto", showgrid: false, zeroline: false } } : {}),
      legend: { orientation: "h", x: 0, y: 1.0, yanchor: "bottom", font: { size: 12 } },
      hovermode: "x unified", paper_bgcolor: "#fff", plot_bgcolor: "#fff",
      annotations: rows.length ? [] : [{ text: state.meter ? "waiting for this day's first interval…"
        : "waiting for the first interval of any meter…", showarrow: false, xref: "paper", yref: "paper",
      x: 0.5, y: 0.5, font: { size: 14, color: "#6b7280" } }],
    };
    return { data, layout, battery };
  }

  function buildingsOf(results) {
    const names = new Set(state.volts.buildings);
    for (const r of results) for (const name of Object.keys(r.buildings || {})) names.add(name);
    return [...names].sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  }

  function voltageFigure(results) {
    const buildings = state.volts.buildings;
    const x = results.map((r) => r.local);
    const data = buildings.map((name, k) => ({
      name, x, y: results.map((r) => (r.buildings[name] ? r.buildings[name].vm_pu : null)), type: "scatter",
      mode: "lines", line: { width: 1.4, color: BUILDING_COLORS[k % BUILDING_COLORS.length] },
      hovertemplate: `${name}: %{y:.4f} pu<extra></extra>`,
    }));
    const day = state.day || localDate(Date.now());
    const band = (y, text) => ({ type: "line", xref: "paper", x0: 0, x1: 1, y0: y, y1: y,
      line: { color: "#dc2626", width: 1, dash: "dash" }, label: { text, textposition: "end", font: { size: 11, color: "#dc2626" } } });
    const layout = {
      uirevision: day, font: FONT, margin: { l: 56, r: 12, t: 6, b: 44 }, xaxis: dayAxis(axisTitleX()),
      // autorange takes in the band's shapes too, so 0.9-1.1 pu stays in view whatever the data
      yaxis: { title: { text: "voltage [pu]" }, autorange: true, gridcolor: "#eef0f3", tickformat: ".2f" },
      shapes: [
        { type: "rect", xref: "paper", x0: 0, x1: 1, y0: 0.9, y1: 1.1, fillcolor: "rgba(22,163,74,0.07)",
          line: { width: 0 }, layer: "below" },
        band(1.1, "1.10 pu"), band(0.9, "0.90 pu"),
        // invisible, so that autorange leaves room around the band and its labels
        { type: "rect", xref: "paper", x0: 0, x1: 0, y0: 0.88, y1: 1.12, line: { width: 0 } },
      ],
      showlegend: buildings.length <= 10, legend: { orientation: "h", x: 0, y: 1.0, yanchor: "bottom" },
      hovermode: "x unified", paper_bgcolor: "#fff", plot_bgcolor: "#fff",
      annotations: results.length ? [] : [{ text: "no live grid results for this day yet", showarrow: false,
        xref: "paper", yref: "paper", x: 0.5, y: 0.5, font: { size: 13, color: "#6b7280" } }],
    };
    return { data, layout };
  }

  function loadingFigure(results) {
    let peak = 0;
    for (const r of results) peak = Math.max(peak, r.trafo_loading_percent);
    const layout = {
      uirevision: state.day, font: FONT, margin: { l: 56, r: 12, t: 6, b: 44 }, xaxis: dayAxis(axisTitleX()),
      yaxis: { title: { text: "loading [%]" }, rangemode: "tozero", autorange: true, gridcolor: "#eef0f3" },
      // the 100 % rating, drawn once the loading gets anywhere near it
      shapes: peak > 60 ? [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: 100, y1: 100,
        line: { color: "#dc2626", width: 1, dash: "dash" }, label: { text: "100 %", textposition: "end",
          font: { size: 11, color: "#dc2626" } } }] : [],
      showlegend: false, hovermode: "x unified", paper_bgcolor: "#fff", plot_bgcolor: "#fff",
      annotations: results.length ? [] : [{ text: `feeder ${config.feeder}: no results for this day yet`,
        showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5, font: { size: 13, color: "#6b7280" } }],
    };
    const data = [{ name: "transformer", x: results.map((r) => r.local),
      y: results.map((r) => r.trafo_loading_percent), type: "scatter", mode: "lines",
      line: { width: 1.6, color: "#7c3aed" }, hovertemplate: "%{y:.2f} %<extra>transformer</extra>" }];
    return { data, layout };
  }

  function scheduleRender() {
    if (!state.frame) state.frame = requestAnimationFrame(() => { state.frame = 0; render(); });
  }

  /** Figures (no Plotly needed): shown at once, and again with every frame that draws. */
  function showFigures() {
    showBalance(sortedIntervals());
    showPipeline();
    showGridExtent();
    if (state.firstNumbersAt == null && state.intervals.size) state.firstNumbersAt = performance.now();
  }

  async function render() {
    showFigures();
    const Plotly = await plotlyReady;
    const jobs = [];
    // power: append what is newer than the last plotted point, redraw when an earlier one changed
    const power = state.power;
    let drawnKeys = [];
    if (!power.battery ? hasBattery(power.pending)  // the battery's traces and axis appear
      : power.pending.some((i) => i.battery_soc_kwh > power.socTop)) power.redraw = true;
    if (power.redraw) {
      const rows = sortedIntervals();
      const figure = powerFigure(rows);
      power.battery = figure.battery;
      power.socTop = figure.battery ? figure.layout.yaxis2.range[1] : 0;
      power.redraw = false;
      power.pending = [];
      power.plotted = rows.length ? rows[rows.length - 1].key : -Infinity;
      drawnKeys = rows.map((r) => r.key);
      jobs.push(Plotly.react("power-chart", figure.data, figure.layout, PLOT_CONFIG));
    } else if (power.pending.length) {
      const rows = power.pending.sort((a, b) => a.key - b.key);
      power.pending = [];
      power.plotted = rows[rows.length - 1].key;
      drawnKeys = rows.map((r) => r.key);
      const c = powerColumns(rows);
      const traces = power.battery
        ? { x: [c.x, c.x, c.x, c.x, c.x, c.socX], y: [c.imp, c.exp, c.meter, c.pv, c.battery, c.soc] }
        : { x: [c.x, c.x, c.x, c.x], y: [c.imp, c.exp, c.meter, c.pv] };
      jobs.push(Plotly.extendTraces("power-chart", traces, power.battery ? [0, 1, 2, 3, 4, 5] : [0, 1, 2, 3]));
    }
    const volts = state.volts;
    if (volts.redraw) {
      const results = sortedGrid();
      volts.redraw = false;
      volts.pending = [];
      volts.buildings = buildingsOf(results);
      volts.plotted = results.length ? results[results.length - 1].key : -Infinity;
      const v = voltageFigure(results);
      const l = loadingFigure(results);
      jobs.push(Plotly.react("voltage-chart", v.data, v.layout, PLOT_CONFIG));
      jobs.push(Plotly.react("loading-chart", l.data, l.layout, PLOT_CONFIG));
    } else if (volts.pending.length) {
      const results = volts.pending.sort((a, b) => a.key - b.key);
      volts.pending = [];
      volts.plotted = results[results.length - 1].key;
      const x = results.map((r) => r.local);
      const indices = volts.buildings.map((_, k) => k);
      if (indices.length) {
        jobs.push(Plotly.extendTraces("voltage-chart", {
          x: indices.map(() => x),
          y: volts.buildings.map((name) => results.map((r) => (r.buildings[name] ? r.buildings[name].vm_pu : null))),
        }, indices));
      }
      jobs.push(Plotly.extendTraces("loading-chart", { x: [x], y: [results.map((r) => r.trafo_loading_percent)] }, [0]));
    }
    showFigures();
    if (!jobs.length) return;
    await Promise.all(jobs);
    performance.mark("pvsim:drawn");
    const now = Date.now();
    for (const key of drawnKeys) state.drawn.push([key, now]);
    if (state.drawn.length > 20000) state.drawn.splice(0, state.drawn.length - 20000);
    if (state.firstDataAt == null && state.intervals.size) {
      state.firstDataAt = performance.now();
      document.body.dataset.firstData = "yes";
    }
  }

  // ---- applying data -----------------------------------------------------------------------
  function withKey(item) {
    item.key = Date.parse(item.interval_start);
    item.local = localString(item.key);
    return item;
  }

  function putInterval(interval) {
    const known = state.intervals.has(interval.key);
    state.intervals.set(interval.key, interval);
    if (!known && interval.key > state.power.plotted) state.power.pending.push(interval);
    else state.power.redraw = true; // a late change of a point already drawn
  }

  function putGrid(result) {
    const known = state.grid.has(result.key);
    state.grid.set(result.key, result);
    const fresh = Object.keys(result.buildings || {}).some((name) => !state.volts.buildings.includes(name));
    if (!known && !fresh && result.key > state.volts.plotted) state.volts.pending.push(result);
    else state.volts.redraw = true;
  }

  // A run of the shown meter overlapping the shown day; the day is complete when one covers it
  // whole (its last reading stands for interval_s more).
  const runStart = (run) => Date.parse(run.first_timestamp);
  const runEnd = (run) => Date.parse(run.last_timestamp) + run.interval_s * 1000;
  const runOverlaps = (run) => state.dayStart != null && runStart(run) < state.dayEnd && runEnd(run) > state.dayStart;
  const covers = (run) => runStart(run) <= state.dayStart && runEnd(run) >= state.dayEnd;

  /** Readings of the shown day the live feed lacks: those a run covering the day announced (the most of any)
   * less those the day's intervals hold; 0 when complete, null while no completed run covers the day. */
  function readingsMissing() {
    let expected = null;
    for (const run of state.runs.filter(covers)) {
      const step = run.interval_s * 1000;
      const first = Math.max(0, Math.ceil((state.dayStart - runStart(run)) / step));
      const last = Math.min(run.readings - 1, Math.floor((state.dayEnd - 1 - runStart(run)) / step));
      expected = Math.max(expected ?? 0, last - first + 1);
    }
    if (expected == null) return null;
    let stored = 0;
    for (const interval of state.intervals.values()) stored += interval.readings;
    return Math.max(0, expected - stored);
  }

  function apply(message) {
    switch (message.type) {
      case "interval": {
        const interval = withKey(message);
        noteMeter(interval.meter_id, interval.key);
        if (state.countLive) {
          state.received += 1;
          state.rate.push([performance.now(), interval.readings]);
        }
        if (!state.meter && state.follow) {
          select(interval.meter_id, localDate(interval.key));
          return;
        }
        if (interval.meter_id !== state.meter) break;
        const day = localDate(interval.key);
        if (day === state.day) putInterval(interval);
        else if (state.follow && day > state.day) select(state.meter, day);
        break;
      }
      case "grid": {
        const result = withKey(message);
        if (localDate(result.key) === state.day && result.feeder === config.feeder) putGrid(result);
        break;
      }
      case "run":
        if (message.meter_id === state.meter && runOverlaps(message)) {
          state.runs.push(message);
        }
        break;
      case "simulation":
        putSimulation(message, true);
        break;
      case "progress":
        if (message.kind === "hosting-capacity") {
          $("sim-message").textContent = `${message.request.feeder} hosting capacity: `
            + `${message.done} of ${message.total} buildings solved for ${message.request.scenarios} scenarios…`;
        }
        break;
      case "stats":
        state.stats = message;
        state.countLive = true;
        break;
      default:
        break;
    }
    scheduleRender();
  }

  function receive(message) {
    if (state.buffer) state.buffer.push(message); else apply(message);
  }

  // ---- meters and days ---------------------------------------------------------------------
  function noteMeter(meterId, lastMs, firstMs = lastMs) {
    const known = state.meters.get(meterId);
    if (!known) {
      state.meters.set(meterId, { first: firstMs, last: lastMs });
      const option = new Option(meterId, meterId);
      const select = $("meter");
      const after = [...select.options].find((o) => o.value.localeCompare(meterId, "en", { numeric: true }) > 0);
      select.add(option, after || null);
      if (meterId === state.meter) select.value = meterId;
    } else {
      known.first = Math.min(known.first, firstMs);
      known.last = Math.max(known.last, lastMs);
    }
    if (meterId === state.meter) showDayLimits();
  }

  function showDayLimits() {
    const span = state.meters.get(state.meter);
    if (!span) return;
    $("day").min = localDate(span.first);
    $("day").max = localDate(span.last);
  }

  function showSelection() {
    $("meter").value = state.meter || "";
    $("day").value = state.day || "";
    $("follow").classList.toggle("active", state.follow);
    $("follow").textContent = state.follow ? "Following live" : "Follow live";
    $("power-title").textContent = state.meter
      ? `${state.meter} · ${weekday(state.day)} ${state.day} — meter, PV and net power [kW]`
      : "Meter, PV and net power [kW]";
    $("run-day").disabled = !state.day;
    showDayLimits();
  }

  /** Show ``meter`` on local ``day``: fetch the day so far while live messages wait in the buffer. */
  async function select(meter, day) {
    state.meter = meter;
    state.day = day;
    state.intervals = new Map();
    state.grid = new Map();
    state.runs = [];
    state.dayStart = null;
    state.dayEnd = null;
    state.power = { plotted: -Infinity, pending: [], redraw: true, battery: false };
    state.volts = { plotted: -Infinity, pending: [], redraw: true, buildings: [] };
    showSelection();
    await load();
  }

  async function load() {
    const token = ++state.loadToken;
    if (!state.buffer) state.buffer = [];
    try {
      if (state.meter && state.day) {
        const data = await getJSON(`/api/dashboard/meters/${encodeURIComponent(state.meter)}/days/${state.day}`);
        if (token !== state.loadToken) return;
        for (const interval of data.intervals) putInterval(withKey(interval));
        for (const result of data.grid) putGrid(withKey(result));
        state.dayStart = Date.parse(data.day_start);
        state.dayEnd = Date.parse(data.day_end);
        state.runs = data.runs;
      }
    } catch (error) {
      showProblem(`could not load ${state.meter} ${state.day}: ${error.message}`);
    } finally {
      if (token === state.loadToken) {
        const held = state.buffer;
        state.buffer = null;
        for (const message of held) apply(message);
        state.power.redraw = true;
        state.volts.redraw = true;
        showFigures();
        scheduleRender();
      }
    }
  }

  // the meters are asked for while the socket connects (a meter that appears meanwhile comes with its intervals)
  let metersAtStart = getJSON("/api/meters").catch(() => null);

  async function loadMeters() {
    const early = await metersAtStart;
    metersAtStart = Promise.resolve(null);
    const meters = early || await getJSON("/api/meters");
    for (const m of meters) noteMeter(m.meter_id, Date.parse(m.last_interval_start), Date.parse(m.first_interval_start));
    if (!state.meter && meters.length) {
      // follow the meter that reported last
      const newest = meters.reduce((a, b) => (Date.parse(b.last_interval_start) > Date.parse(a.last_interval_start) ? b : a));
      state.meter = newest.meter_id;
      state.day = localDate(Date.parse(newest.last_interval_start));
      showSelection();
    }
  }

  // ---- simulations -------------------------------------------------------------------------
  function putSimulation(simulation, fresh) {
    if (state.simulations.has(simulation.id)) return;
    state.simulations.set(simulation.id, simulation);
    const rows = [...state.simulations.values()].sort((a, b) => b.id - a.id).slice(0, 50);
    const body = $("simulations");
    body.replaceChildren(...rows.map((s) => {
      const tr = document.createElement("tr");
      const volts = Object.values(s.bus_vm_pu || {});
      const cells = [s.id, localString(Date.parse(s.launched_at)).slice(11, 19), s.kind,
        s.active_power_mw.toFixed(3), s.reactive_power_mvar.toFixed(3),
        volts.length ? Math.min(...volts).toFixed(3) : "–"];
      for (const value of cells) {
        const td = document.createElement("td");
        td.textContent = String(value);
        tr.appendChild(td);
      }
      if (fresh && s.id === simulation.id) tr.className = "new";
      tr.dataset.id = s.id;
      return tr;
    }));
    showHosting(rows.find((s) => s.kind === "hosting-capacity"));
  }

  // the figure of the newest hosting-capacity simulation (GET /api/simulations/{id}/figure.png)
  function showHosting(simulation) {
    if (!simulation) return;
    const img = $("hosting-figure");
    const src = `/api/simulations/${simulation.id}/figure.png`;
    if (img.getAttribute("src") !== src) { img.setAttribute("src", src); $("hosting-link").setAttribute("href", src); }
    const capacity = simulation.details.capacity_kwp || {};
    const fmt = (value) => (typeof value === "number" ? value.toFixed(0) : "–");
    $("hosting-caption").textContent = `#${simulation.id} ${simulation.details.feeder} hosting capacity `
      + `P5 / P50 / P95 ${fmt(capacity.p5)} / ${fmt(capacity.p50)} / ${fmt(capacity.p95)} kWp, `
      + `${simulation.details.scenarios} scenarios (click: full figure)`;
    $("hosting").hidden = false;
  }

  async function runSimulation(body, label) {
    const message = $("sim-message");
    message.textContent = `${label}: running…`;
    for (const b of [$("run-assignment"), $("run-day"), $("run-hosting")]) b.disabled = true;
    try {
      const headers = { "Content-Type": "application/json" };
      const token = sessionStorage.getItem("pvsim-token");
      if (token) headers.Authorization = `Bearer ${token}`;
      const response = await fetch("/api/simulations", { method: "POST", headers, body: JSON.stringify(body) });
      const answer = await response.json();
      if (response.status === 401) {
        const entered = window.prompt("This service needs its bearer token (PVSIM_API_TOKEN) to run simulations:");
        if (entered) { sessionStorage.setItem("pvsim-token", entered); return runSimulation(body, label); }
      }
      // the new row arrives through /ws/live like everyone else's
      message.textContent = response.ok ? `${label}: simulation ${answer.id} stored` : `${label}: ${answer.detail}`;
    } catch (error) {
      message.textContent = `${label}: ${error.message}`;
    } finally {
      $("run-assignment").disabled = false;
      $("run-hosting").disabled = false;
      $("run-day").disabled = !state.day;
    }
    return undefined;
  }

  // ---- connection --------------------------------------------------------------------------
  let retryMs = 500;

  function showConnection(text, kind) {
    const badge = $("connection");
    badge.textContent = text;
    badge.className = `badge badge-${kind}`;
  }

  function showProblem(text) {
    showConnection(text, "bad");
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/live`);
    state.buffer = state.buffer || [];
    state.countLive = false;
    let first = true;
    socket.onmessage = (event) => {
      if (first) {
        first = false;
        state.connected = true;
        retryMs = 500;
        showConnection("live", "ok");
        start(); // subscribed: now the fetched day cannot miss what the socket brings
      }
      receive(JSON.parse(event.data));
    };
    socket.onclose = (event) => {
      showConnection(event.code === 1013 ? "fell behind, reconnecting…" : "reconnecting…", "wait");
      state.buffer = state.buffer || [];
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 10000);
    };
  }

  async function start() {
    try {
      await Promise.all([
        loadMeters(),
        getJSON("/api/simulations?limit=20").then((page) => page.simulations.forEach((s) => putSimulation(s, false))),
      ]);
    } catch (error) {
      showProblem(error.message);
    }
    await load();
  }

  // ---- controls ----------------------------------------------------------------------------
  $("meter").addEventListener("change", (event) => {
    state.follow = false;
    const span = state.meters.get(event.target.value);
    let day = state.day;
    if (span && (!day || day < localDate(span.first) || day > localDate(span.last))) day = localDate(span.last);
    select(event.target.value, day);
  });
  $("day").addEventListener("change", (event) => {
    if (!event.target.value) return;
    state.follow = false;
    select(state.meter, event.target.value);
  });
  $("follow").addEventListener("click", () => {
    state.follow = true;
    const span = state.meters.get(state.meter);
    if (span) select(state.meter, localDate(span.last)); else showSelection();
  });
  $("run-assignment").addEventListener("click", () => runSimulation({}, "assignment network"));
  $("run-day").addEventListener("click", () => runSimulation({ feeder: config.feeder, date: state.day },
    `${config.feeder} on ${state.day}`));
  $("run-hosting").addEventListener("click", () => runSimulation({ feeder: config.feeder, scenarios: 200 },
    `${config.feeder} hosting capacity`));

  $("site").textContent = `${TZ} · feeder ${config.feeder}`;
  $("feeder-name").textContent = `· feeder ${config.feeder}`;
  setInterval(showPipeline, 1000);
  showSelection();
  scheduleRender();
  connect();

  // what the browser tests and the benchmark read
  window.pvsim = {
    state,
    points: () => state.intervals.size,
    plottedPoints: () => {
      const chart = $("power-chart");
      return chart.data && chart.data[2] ? chart.data[2].x.length : 0;
    },
    balance: () => balance(sortedIntervals()),
    drawn: () => state.drawn,
    firstDataAt: () => state.firstDataAt,
    firstNumbersAt: () => state.firstNumbersAt,
  };
})();
