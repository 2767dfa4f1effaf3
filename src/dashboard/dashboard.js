// tally dashboard: one app's metrics from the read API, drawn with uPlot. Plain browser JavaScript.
;(() => {
  const $ = (s) => document.querySelector(s)
  const state = {
    token: localStorage.getItem("tally.token") || "",
    owner: "",
    range: "2h",
    step: "1m",
    plots: [],
  }
  const RANGES = { "2h": 2 * 3600e3, "24h": 24 * 3600e3, "7d": 7 * 86400e3 }
  const STEPS = { "1m": 60e3, "5m": 300e3, "10m": 600e3, "15m": 900e3, "1h": 3600e3, "1d": 86400e3 }
  const COLORS = ["#6ea8fe", "#7ee2a8", "#ffd166", "#ff6b6b", "#c792ea", "#f78c6c", "#89ddff", "#b2ccd6"]
  const MARKERS = {
    deploy: "#7ee2a8",
    release: "#6ea8fe",
    restart: "#ffd166",
    crash: "#ff6b6b",
    scale: "#c792ea",
    config: "#f78c6c",
    state: "#8b93a7",
  }

  const api = async (path) => {
    const r = await fetch(path, { headers: { authorization: `Bearer ${state.token}` } })
    if (!r.ok) throw new Error(`${r.status} ${(await r.json().catch(() => ({}))).message || r.statusText}`)
    return r.json()
  }

  const window_ = () => {
    const stepMs = STEPS[state.step]
    const to = Math.ceil(Date.now() / stepMs) * stepMs
    const from = to - RANGES[state.range]
    const xs = []
    for (let t = from; t < to; t += stepMs) xs.push(t / 1000)
    return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), xs }
  }

  /** Values of `points` at each x (null where there is no point). */
  const align = (xs, points, pick) => {
    const at = new Map(points.map((p) => [Date.parse(p.time) / 1000, pick(p)]))
    return xs.map((x) => (at.has(x) ? at.get(x) : null))
  }

  const metric = (name, w, processType) =>
    api(
      `/api/v1/apps/${state.owner}/metrics/${name}?from=${w.from}&to=${w.to}&step=${state.step}${processType ? `&process_type=${processType}` : ""}`,
    )

  /** Draws event markers (vertical lines) on a chart. */
  const markers = (events) => ({
    hooks: {
      draw: [
        (u) => {
          const ctx = u.ctx
          ctx.save()
          for (const e of events) {
            const x = u.valToPos(Date.parse(e.time) / 1000, "x", true)
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue
            ctx.strokeStyle = MARKERS[e.kind] || "#8b93a7"
            ctx.lineWidth = 2 * devicePixelRatio
            ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio])
            ctx.beginPath()
            ctx.moveTo(x, u.bbox.top)
            ctx.lineTo(x, u.bbox.top + u.bbox.height)
            ctx.stroke()
            ctx.fillStyle = MARKERS[e.kind] || "#8b93a7"
            ctx.font = `${11 * devicePixelRatio}px system-ui`
            const row = events.indexOf(e) % 3
            ctx.fillText(e.kind, x + 3 * devicePixelRatio, u.bbox.top + (12 + row * 13) * devicePixelRatio)
          }
          ctx.restore()
        },
      ],
    },
  })

  const draw = (id, xs, lines, events, opts = {}) => {
    const section = $(`#${id}`)
    const el = section.querySelector(".plot")
    el.innerHTML = ""
    const drawn = lines.reduce((n, l) => n + l.values.filter((v) => v !== null).length, 0)
    section.dataset.points = String(drawn)
    section.dataset.events = String(events.length)
    if (drawn === 0) {
      el.innerHTML = '<p class="empty">no data in this range</p>'
      return
    }
    xs = xs.slice(opts.start || 0)
    lines = lines.map((l) => ({ ...l, values: l.values.slice(opts.start || 0) }))
    const plot = new uPlot(
      {
        width: Math.max(300, el.clientWidth),
        height: 240,
        plugins: [markers(events)],
        scales: { x: { time: true }, ...(opts.log ? { y: { distr: 3 } } : {}) },
        axes: [
          { stroke: "#8b93a7", grid: { stroke: "#26304a" } },
          { stroke: "#8b93a7", grid: { stroke: "#26304a" }, size: 60 },
        ],
        series: [
          {},
          ...lines.map((l, i) => ({
            label: l.label,
            stroke: l.color || COLORS[i % COLORS.length],
            width: l.width || 1.5,
            dash: l.dash,
            fill: opts.stacked ? `${l.color || COLORS[i % COLORS.length]}33` : undefined,
            spanGaps: false,
          })),
        ],
      },
      [xs, ...lines.map((l) => l.values)],
      el,
    )
    state.plots.push(plot)
  }

  const load = async () => {
    for (const p of state.plots) p.destroy()
    state.plots = []
    const w = window_()
    $("#status").textContent = "Loading…"
    try {
      const [memory, quota, loadAvg, latency, status, errors, events] = await Promise.all([
        metric("memory_total", w),
        metric("memory_quota", w),
        metric("load_avg_1m", w),
        metric("router_service_ms", w),
        metric("router_status", w),
        metric("errors", w),
        api(`/api/v1/apps/${state.owner}/events?from=${w.from}&to=${w.to}`),
      ])
      const ev = events.events
      const sumBy = (series, pick) => {
        const values = w.xs.map(() => null)
        for (const s of series)
          align(w.xs, s.points, pick).forEach((v, k) => {
            if (v !== null) values[k] = (values[k] || 0) + v
          })
        return values
      }
      const memLines = memory.series.flatMap((s, i) => [
        {
          label: `${s.processType} mean`,
          values: align(w.xs, s.points, (p) => p.mean),
          color: COLORS[i % COLORS.length],
        },
        {
          label: `${s.processType} max`,
          values: align(w.xs, s.points, (p) => p.max),
          color: COLORS[i % COLORS.length],
          dash: [5, 4],
        },
      ])
      if (quota.series.length) {
        const quotas = quota.series.map((s) => align(w.xs, s.points, (p) => p.max))
        const values = w.xs.map((_, k) => {
          const vs = quotas.map((q) => q[k]).filter((v) => v !== null)
          return vs.length ? Math.max(...vs) : null
        })
        memLines.push({ label: "quota", values, color: "#ff6b6b", width: 2 })
      }
      const latencyLines = latency.series.flatMap((s, i) =>
        ["p50", "p95", "p99"].map((q, j) => ({
          label: `${s.processType} ${q}`,
          values: align(w.xs, s.points, (p) => (p[q] === undefined ? null : p[q])),
          color: COLORS[(i * 3 + j) % COLORS.length],
        })),
      )
      const CLASS_COLORS = { "2xx": "#7ee2a8", "3xx": "#6ea8fe", "4xx": "#ffd166", "5xx": "#ff6b6b" }
      const classLines = Object.keys(CLASS_COLORS)
        .map((c) => ({
          label: c,
          values: sumBy(
            status.series.filter((s) => `${s.label[0]}xx` === c),
            (p) => p.count,
          ),
          color: CLASS_COLORS[c],
        }))
        .filter((l) => l.values.some((v) => v !== null))
      const codes = [...new Set(errors.series.map((s) => s.label))].sort()
      const errorLines = codes.map((code) => ({
        label: code,
        values: sumBy(
          errors.series.filter((s) => s.label === code),
          (p) => p.sum,
        ),
      }))
      const charts = [
        ["chart-memory", memLines, {}],
        [
          "chart-load",
          loadAvg.series.map((s) => ({ label: s.processType, values: align(w.xs, s.points, (p) => p.mean) })),
          {},
        ],
        ["chart-latency", latencyLines, { log: true }],
        ["chart-throughput", classLines, { stacked: true }],
        ["chart-errors", errorLines, {}],
      ]
      // Every chart starts at the first bucket with data in any of them: a young app fills the charts.
      const firsts = charts
        .flatMap(([, ls]) => ls.map((l) => l.values.findIndex((v) => v !== null)))
        .filter((i) => i >= 0)
      const start = Math.max(0, Math.min(w.xs.length, ...firsts) - 1)
      for (const [id, ls, opts] of charts) draw(id, w.xs, ls, ev, { ...opts, start })
      const missing = [...new Set([memory, loadAvg, latency, status, errors].flatMap((r) => r.missing))]
      $("#status").textContent =
        `${state.range} at ${state.step} · ${ev.length} events${missing.length ? ` · partial: shards of ${missing.join(", ")} did not answer` : ""} · updated ${new Date().toLocaleTimeString()}`
      document.body.dataset.loaded = "true"
    } catch (e) {
      $("#status").textContent = `Could not load: ${e.message}`
    }
  }

  const open = async () => {
    try {
      const me = await api("/api/v1/me")
      state.owner = me.owner
      $("#app").textContent = me.owner
      localStorage.setItem("tally.token", state.token)
      await load()
    } catch (e) {
      $("#status").textContent = `That token was not accepted (${e.message}).`
    }
  }

  $("#login").addEventListener("submit", (e) => {
    e.preventDefault()
    state.token = $("#token").value.trim()
    open()
  })
  for (const b of document.querySelectorAll("#ranges button"))
    b.addEventListener("click", () => {
      for (const o of document.querySelectorAll("#ranges button")) o.classList.toggle("on", o === b)
      state.range = b.dataset.range
      state.step = b.dataset.step
      if (state.owner) load()
    })
  setInterval(() => state.owner && load(), 30_000)
  if (state.token) {
    $("#token").value = state.token
    open()
  }
})()
