// tally dashboard: Heroku's Metrics tab for one app, from the read API, drawn with uPlot. Plain browser
// JavaScript, no inline code or styles (the page's Content-Security-Policy allows neither).
;(() => {
  const $ = (s) => document.querySelector(s)
  const MIN = 60e3
  const HOUR = 60 * MIN
  /** Heroku's ranges, each at a fixed resolution. */
  const RANGES = {
    "2h": { ms: 2 * HOUR, step: "1m", stepMs: MIN },
    "24h": { ms: 24 * HOUR, step: "10m", stepMs: 10 * MIN },
    "72h": { ms: 72 * HOUR, step: "15m", stepMs: 15 * MIN },
    "7d": { ms: 7 * 24 * HOUR, step: "1h", stepMs: HOUR },
  }
  const KINDS = {
    deploy: "#7ee2a8",
    release: "#6ea8fe",
    restart: "#ffd166",
    crash: "#ff6b6b",
    scale: "#c792ea",
    config: "#f78c6c",
    state: "#8b93a7",
    alert: "#ff4d9a",
  }
  const CLASSES = { "2xx": "#7ee2a8", "3xx": "#6ea8fe", "4xx": "#ffd166", "5xx": "#ff6b6b" }
  const COLORS = ["#6ea8fe", "#7ee2a8", "#ffd166", "#ff6b6b", "#c792ea", "#f78c6c", "#89ddff", "#b2ccd6"]
  const INK = "#8b93a7"
  const GRID = "#26304a"
  /** Heroku's documented error codes (devcenter.heroku.com/articles/error-codes), with what to look at. */
  const ERROR_CODES = {
    H10: ["App crashed", "a web dyno crashed or failed to boot: see the crash events and the app's logs"],
    H11: ["Backlog too deep", "more requests queued than the app's dynos can take"],
    H12: ["Request timeout", "the app took longer than 30 s to answer; the router gave up with a 503"],
    H13: ["Connection closed without response", "the dyno accepted the connection and closed it unanswered"],
    H14: ["No web dynos running", "scale the web process up: heroku ps:scale web=1"],
    H15: ["Idle connection", "no data on the connection for 55 s"],
    H16: ["Redirect to herokuapp.com", ""],
    H17: ["Poorly formatted HTTP response", ""],
    H18: ["Server Request Interrupted", "the dyno closed the socket mid-request or sent an invalid response"],
    H19: ["Backend connection timeout", "the router could not connect to a dyno within 5 s"],
    H20: ["App boot timeout", "the web process did not bind its port in time"],
    H21: ["Backend connection refused", ""],
    H22: ["Connection limit reached", ""],
    H23: ["Endpoint misconfigured", ""],
    H24: ["Forced close", ""],
    H25: ["HTTP Restriction", ""],
    H26: ["Request Error", ""],
    H27: ["Client Request Interrupted", "the client closed the socket before the response: usually harmless"],
    H28: ["Client Connection Idle", ""],
    H31: ["Misdirected Request", ""],
    H80: ["Maintenance mode", ""],
    H81: ["Blank app", ""],
    H82: ["Free dyno quota exhausted", ""],
    H83: ["Planned Service Degradation", ""],
    H99: ["Platform error", "a Heroku router error, not the app's"],
    R10: ["Boot timeout", "the web process did not bind $PORT within 60 s of starting"],
    R12: ["Exit timeout", "processes did not exit within 30 s of SIGTERM"],
    R13: ["Attach error", ""],
    R14: ["Memory quota exceeded", "the dyno uses more memory than its quota and swaps"],
    R15: ["Memory quota vastly exceeded", "the dyno reached 2x (or more) of its quota and was killed"],
    R16: ["Detached", ""],
    R17: ["Checksum error", ""],
    R99: ["Platform error", ""],
    L10: ["Drain buffer overflow", "Logplex dropped lines for this drain (the count is lines dropped)"],
    L11: ["Tail buffer overflow", ""],
    L12: ["Local buffer overflow", ""],
    L13: ["Local delivery error", ""],
    L14: ["Certificate validation error", "the drain URL's TLS certificate was refused"],
    L15: ["Tail buffer temporarily unavailable", ""],
  }

  const params = new URLSearchParams(location.search)
  const state = {
    token: sessionStorage.getItem("tally.token") || localStorage.getItem("tally.token") || "",
    admin: false,
    apps: [],
    app: null,
    processType: params.get("process_type") || "",
    range: RANGES[localStorage.getItem("tally.range")] ? localStorage.getItem("tally.range") : "2h",
    utc: localStorage.getItem("tally.tz") === "utc",
    seq: 0,
    charts: {},
    window: null,
  }
  // For tests and the curious: the uPlot objects and the range on screen.
  window.tally = state

  // ---- helpers -------------------------------------------------------------------------------------

  const el = (tag, { dataset, ...props } = {}, ...children) => {
    const e = Object.assign(document.createElement(tag), props)
    Object.assign(e.dataset, dataset)
    for (const c of children) e.append(c)
    return e
  }
  const code = (text) => el("code", { textContent: text })
  const setStatus = (text) => {
    $("#status").textContent = text
  }

  const api = async (path) => {
    const r = await fetch(path, { headers: { authorization: `Bearer ${state.token}` } })
    const body = await r.json().catch(() => ({}))
    if (!r.ok)
      throw Object.assign(new Error(body.message || `${r.status} ${r.statusText}`), { status: r.status })
    return body
  }

  /** Compact numbers for axes: 950, 1.2k, 30k, 1.5M; fractions with 2 significant digits. */
  const compact = (v) => {
    if (v == null) return ""
    const a = Math.abs(v)
    if (a >= 1e6) return `${+(v / 1e6).toFixed(1)}M`
    if (a >= 1e3) return `${+(v / 1e3).toFixed(1)}k`
    if (a >= 10 || a === 0) return `${Math.round(v)}`
    return `${+v.toPrecision(2)}`
  }
  const ms = (v) => (v == null ? "" : v >= 1000 ? `${+(v / 1000).toFixed(1)} s` : `${+v.toPrecision(3)} ms`)
  const fixed =
    (digits, unit = "") =>
    (v) =>
      v == null ? "–" : `${+v.toFixed(digits)}${unit}`

  const timeFormat = (opts) =>
    new Intl.DateTimeFormat(undefined, { hourCycle: "h23", timeZone: state.utc ? "UTC" : undefined, ...opts })
  const fmtTime = (t) =>
    timeFormat({
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    }).format(t)

  const zoneName = () => {
    if (state.utc) return "UTC"
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone
    const off = -new Date().getTimezoneOffset()
    const hhmm = `${String(Math.floor(Math.abs(off) / 60)).padStart(2, "0")}:${String(Math.abs(off) % 60).padStart(2, "0")}`
    return `${zone} (UTC${off < 0 ? "-" : "+"}${hhmm})`
  }

  /** The range on screen: its bounds (the last step still filling), its buckets' starts in seconds. */
  const rangeWindow = () => {
    const r = RANGES[state.range]
    const now = Date.now()
    const toMs = Math.ceil(now / r.stepMs) * r.stepMs
    const fromMs = toMs - r.ms
    const xs = []
    for (let t = fromMs; t < toMs; t += r.stepMs) xs.push(t / 1000)
    // The bucket that holds `now` is not over yet: marked, never drawn as a cliff.
    const partial = Math.floor((now - fromMs) / r.stepMs)
    return { ...r, fromMs, toMs, xs, partial: partial < xs.length ? partial : -1 }
  }

  /** Per bucket: the series' points merged (counts and sums add, min/max fold), or null. */
  const combine = (w, series) => {
    const at = new Map()
    for (const s of series)
      for (const p of s.points) {
        const x = Date.parse(p.time) / 1000
        const a = at.get(x)
        if (!a) at.set(x, { count: p.count, sum: p.sum, min: p.min, max: p.max })
        else {
          a.count += p.count
          a.sum += p.sum
          a.min = Math.min(a.min, p.min)
          a.max = Math.max(a.max, p.max)
        }
      }
    return w.xs.map((x) => at.get(x) || null)
  }
  const pick = (merged, f) => merged.map((a) => (a ? f(a) : null))
  const mean = (a) => (a.count ? a.sum / a.count : null)

  // ---- chart drawing -------------------------------------------------------------------------------

  /** An axis as wide as its longest label (no clipped tick labels), in CSS pixels. */
  const fitAxis = (u, values, i, cycle) => {
    const axis = u.axes[i]
    if (cycle > 1) return axis._size
    u.ctx.font = axis.font[0]
    let widest = 0
    for (const v of values || [])
      for (const part of String(v).split("\n")) widest = Math.max(widest, u.ctx.measureText(part).width)
    return Math.ceil(axis.ticks.size + axis.gap + widest / uPlot.pxRatio + 6)
  }

  /**
   * Room beside the plot for the time axis' edge labels: a tick at the range's start or end carries a
   * label centred on it, half of which lies beyond the plot; that half must fit in the padding plus the
   * y axis on that side, or it is cut off by the canvas' edge. `min` is the padding wanted anyway. The
   * labels are those of this sizing cycle (axes are sized first); the padding only grows, so it settles.
   */
  const edgePad = (min) => (u, side, _sides, cycle) => {
    const x = cycle > 0 && u.axes[0]
    if (!x?._values) return min
    u.ctx.font = x.font[0]
    let widest = 0
    for (const v of x._values)
      if (v != null)
        for (const part of String(v).split("\n")) widest = Math.max(widest, u.ctx.measureText(part).width)
    const beside = u.axes.reduce((n, a, i) => (i > 0 && a.side === side && a._show ? n + a._size : n), 0)
    const need = Math.max(min, Math.ceil(widest / uPlot.pxRatio / 2) + 2 - beside)
    return cycle > 1 ? Math.max(u._padding[side], need) : need
  }

  /**
   * Log-scale ticks at 1, 2 and 5 of each decade when the plot is tall enough (uPlot's own put a grid
   * line at every 1..9), else fewer: labels at least LOG_LABEL_PX apart, so they never overlap.
   */
  const LOG_LABEL_PX = 24
  const logSplits = (u, _i, min, max) => {
    const decades = Math.max(Math.log10(max / min), 1e-9)
    const perDecade = (u.bbox.height / uPlot.pxRatio || 150) / decades
    const mults = perDecade >= 3 * LOG_LABEL_PX ? [1, 2, 5] : perDecade >= 2 * LOG_LABEL_PX ? [1, 3] : [1]
    const every = Math.max(1, Math.ceil(LOG_LABEL_PX / perDecade))
    const out = []
    let k = 0
    for (let d = 10 ** Math.floor(Math.log10(min)); d <= max; d *= 10, k++)
      if (k % every === 0)
        for (const m of mults) if (d * m >= min && d * m <= max) out.push(+(d * m).toPrecision(1))
    return out
  }

  /** Events as markers: those closer than 8 px merge into one with a count; hover lists them. */
  const eventMarkers = (u, events) => {
    const px = uPlot.pxRatio
    const { left, top, width, height } = u.bbox
    const clusters = []
    for (const e of events) {
      const x = u.valToPos(e.t / 1000, "x", true)
      if (x < left - 1 || x > left + width + 1) continue
      const last = clusters[clusters.length - 1]
      if (last && x - last.x < 8 * px) last.events.push(e)
      else clusters.push({ x, events: [e] })
    }
    const ctx = u.ctx
    ctx.save()
    ctx.font = `${11 * px}px system-ui, sans-serif`
    ctx.textBaseline = "top"
    for (const c of clusters) {
      const kinds = new Set(c.events.map((e) => e.kind))
      const color = kinds.size === 1 ? KINDS[c.events[0].kind] || INK : "#e6e9f0"
      ctx.strokeStyle = `${color}66`
      ctx.lineWidth = px
      ctx.setLineDash([3 * px, 3 * px])
      ctx.beginPath()
      ctx.moveTo(c.x, top)
      ctx.lineTo(c.x, top + height)
      ctx.stroke()
      ctx.setLineDash([])
      ctx.fillStyle = color
      const s = 4 * px
      ctx.beginPath()
      if (kinds.has("alert")) {
        // A diamond when an alert transition is among them.
        ctx.moveTo(c.x, top)
        ctx.lineTo(c.x + s, top + s)
        ctx.lineTo(c.x, top + 2 * s)
        ctx.lineTo(c.x - s, top + s)
      } else ctx.rect(c.x - s, top, 2 * s, 2 * s)
      ctx.fill()
      if (c.events.length > 1) {
        const label = String(c.events.length)
        const tw = ctx.measureText(label).width
        // Right of the marker, or left of it near the plot's right edge.
        const tx = c.x + s + 2 * px + tw > left + width ? c.x - s - 2 * px - tw : c.x + s + 2 * px
        ctx.fillText(label, tx, top)
      }
    }
    ctx.restore()
    u.tallyClusters = clusters.map((c) => ({ x: c.x / px, events: c.events }))
    return clusters.length
  }

  /** The step still filling: a shaded band, and each line's way into it dashed. */
  const partialStep = (u, w, partials) => {
    if (w.partial < 0) return
    const ctx = u.ctx
    const px = uPlot.pxRatio
    const { left, top, width, height } = u.bbox
    const x0 = Math.max(left, u.valToPos(w.xs[w.partial], "x", true))
    ctx.save()
    ctx.fillStyle = "rgba(139,147,167,0.13)"
    ctx.fillRect(x0, top, left + width - x0, height)
    ctx.setLineDash([4 * px, 3 * px])
    ctx.lineWidth = 1.5 * px
    for (const p of partials) {
      const s = u.series[p.series]
      if (!s.show || p.value == null) continue
      const y1 = u.valToPos(p.value, s.scale, true)
      const x1 = u.valToPos(w.xs[w.partial], "x", true)
      ctx.strokeStyle = p.color
      ctx.beginPath()
      if (p.prev != null) {
        ctx.moveTo(u.valToPos(w.xs[w.partial - 1], "x", true), u.valToPos(p.prev, s.scale, true))
        ctx.lineTo(x1, y1)
      } else ctx.arc(x1, y1, 2 * px, 0, 2 * Math.PI)
      ctx.stroke()
    }
    ctx.restore()
  }

  /** Alert thresholds as dashed horizontal lines, labelled inside the plot. */
  const thresholdLines = (u, thresholds) => {
    const ctx = u.ctx
    const px = uPlot.pxRatio
    const { left, top, width, height } = u.bbox
    ctx.save()
    ctx.font = `${11 * px}px system-ui, sans-serif`
    ctx.textBaseline = "bottom"
    for (const t of thresholds) {
      const y = u.valToPos(t.value, t.scale, true)
      if (y < top - 1 || y > top + height + 1) continue
      const color = t.firing ? "#ff4d6d" : "#ffb86b"
      ctx.strokeStyle = color
      ctx.fillStyle = color
      ctx.lineWidth = 1.5 * px
      ctx.setLineDash([6 * px, 4 * px])
      ctx.beginPath()
      ctx.moveTo(left, y)
      ctx.lineTo(left + width, y)
      ctx.stroke()
      const label = t.label
      const tw = ctx.measureText(label).width
      ctx.fillText(label, left + width - tw - 4 * px, y < top + 14 * px ? y + 13 * px : y - 2 * px)
    }
    ctx.restore()
  }

  /** Hover over a marker: the events it stands for, in a tooltip. */
  const showTip = (u, section) => {
    const tip = $("#tip")
    const left = u.cursor.left
    const near = left >= 0 && (u.tallyClusters || []).find((c) => Math.abs(c.x - left) <= 6)
    if (!near) {
      if (tip.dataset.owner === section.id) tip.hidden = true
      return
    }
    tip.replaceChildren(
      ...near.events
        .slice(0, 8)
        .map((e) =>
          el(
            "div",
            {},
            el("span", { className: `m ${e.kind}`, textContent: e.kind }),
            ` ${fmtTime(e.t)} ${e.process} · ${e.description}`,
          ),
        ),
      ...(near.events.length > 8 ? [el("div", { textContent: `and ${near.events.length - 8} more` })] : []),
    )
    tip.dataset.owner = section.id
    tip.hidden = false
    const over = u.over.getBoundingClientRect()
    const x = Math.min(over.left + near.x + 10, window.innerWidth - tip.offsetWidth - 8)
    tip.style.left = `${Math.max(8, x) + window.scrollX}px`
    tip.style.top = `${over.top + window.scrollY + 4}px`
  }

  /**
   * One chart: `lines` [{label, values, color, dash, scale, bars}], `y` {fmt, log}, `y2` {fmt} for a
   * right-hand scale "pct", `thresholds` [{value, scale, label, firing}], `events`, `empty` (a hint).
   */
  const chart = (id, w, spec) => {
    const section = $(`#${id}`)
    const box = section.querySelector(".plot")
    state.charts[id]?.destroy()
    delete state.charts[id]
    box.replaceChildren()
    const drawn = spec.lines.reduce((n, l) => n + l.values.filter((v) => v != null).length, 0)
    section.dataset.points = String(drawn)
    section.dataset.thresholds = String(spec.thresholds.length)
    section.classList.toggle(
      "firing",
      spec.thresholds.some((t) => t.firing),
    )
    if (drawn === 0) {
      box.append(el("p", { className: "empty" }, ...spec.empty))
      section.dataset.events = "0"
      return
    }
    // The bucket still filling is left out of the lines and drawn dashed into the shaded band.
    const partials = []
    const lines = spec.lines.map((l, i) => {
      if (w.partial < 0 || l.bars) return l
      const values = l.values.slice()
      partials.push({
        series: i + 1,
        value: values[w.partial],
        prev: w.partial > 0 ? values[w.partial - 1] : null,
        color: l.color,
      })
      values[w.partial] = null
      return { ...l, values }
    })
    const withThresholds = (scale, log) => (_u, min, max) => {
      let lo = min
      let hi = max
      for (const t of spec.thresholds)
        if (t.scale === scale) {
          lo = lo == null ? t.value : Math.min(lo, t.value)
          hi = hi == null ? t.value : Math.max(hi, t.value)
        }
      if (lo == null) return [0, 1]
      if (log) return uPlot.rangeLog(Math.max(lo, 0.1), Math.max(hi, 1), 10, true)
      return uPlot.rangeNum(Math.min(0, lo), hi === lo ? hi + 1 : hi, 0.1, true)
    }
    const axis = { stroke: INK, grid: { stroke: GRID, width: 1 }, ticks: { stroke: GRID, width: 1 } }
    const plot = new uPlot(
      {
        width: Math.max(280, box.clientWidth),
        height: 220,
        padding: [10, edgePad(12), 0, edgePad(0)],
        tzDate: state.utc ? (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC") : (ts) => new Date(ts * 1e3),
        cursor: { points: { size: 6 } },
        scales: {
          x: { time: true, range: () => [w.fromMs / 1000, w.toMs / 1000] },
          y: spec.y.log
            ? { distr: 3, range: withThresholds("y", true) }
            : { range: withThresholds("y", false) },
          ...(spec.y2 ? { pct: { range: withThresholds("pct", false) } } : {}),
        },
        axes: [
          { ...axis, space: 70 },
          {
            ...axis,
            values: (_u, splits) => splits.map(spec.y.fmt),
            size: fitAxis,
            ...(spec.y.log ? { splits: logSplits, filter: (_u, splits) => splits } : {}),
          },
          ...(spec.y2
            ? [
                {
                  ...axis,
                  scale: "pct",
                  side: 1,
                  grid: { show: false },
                  values: (_u, splits) => splits.map(spec.y2.fmt),
                  size: fitAxis,
                },
              ]
            : []),
        ],
        series: [
          { value: (_u, ts) => (ts == null ? "–" : fmtTime(ts * 1000)) },
          ...lines.map((l) => ({
            label: l.label,
            scale: l.scale || "y",
            stroke: l.color,
            width: l.width || 1.5,
            dash: l.dash,
            fill: l.fill,
            paths: l.bars ? uPlot.paths.bars({ size: [0.7, 40] }) : undefined,
            points: { show: false },
            value: (_u, v) => (v == null ? "–" : (l.fmt || spec.y.fmt)(v)),
            spanGaps: false,
          })),
        ],
        hooks: {
          drawAxes: [(u) => partialStep(u, w, partials)],
          draw: [
            (u) => {
              thresholdLines(u, spec.thresholds)
              section.dataset.events = String(eventMarkers(u, spec.events))
            },
          ],
          setCursor: [(u) => showTip(u, section)],
        },
      },
      [w.xs, ...lines.map((l) => l.values)],
      box,
    )
    plot.over.addEventListener("mouseleave", () => {
      $("#tip").hidden = true
    })
    state.charts[id] = plot
  }

  // ---- the page's parts ----------------------------------------------------------------------------

  const alertText = (a) =>
    `${a.name}: ${a.metric} of ${a.processType} ${a.value == null ? "no data" : `${+a.value.toFixed(2)} ${a.unit}`} (threshold ${a.threshold} ${a.unit}, for ${a.for}) since ${fmtTime(Date.parse(a.since))}`

  const banner = (alerts) => {
    const firing = alerts.filter((a) => a.state === "firing")
    const pending = alerts.filter((a) => a.state === "pending")
    const b = $("#banner")
    b.hidden = firing.length + pending.length === 0
    b.className = firing.length ? "firing" : "pending"
    b.replaceChildren(
      ...firing.map((a) => el("div", {}, el("b", { textContent: "Firing" }), ` ${alertText(a)}`)),
      ...pending.map((a) => el("div", {}, el("b", { textContent: "Pending" }), ` ${alertText(a)}`)),
    )
  }

  /** The thresholds of the rules watching the chosen process type, in each chart's own units. */
  const thresholdsOf = (alerts, quotaByType) => {
    const out = { latency: [], throughput: [], memory: [], load: [] }
    for (const a of alerts) {
      if (state.processType && a.processType !== state.processType) continue
      const firing = a.state === "firing"
      const label = `${a.name} ≥ ${a.threshold} ${a.unit}${firing ? " · firing" : ""}`
      if (a.metric === "router_p95_ms") out.latency.push({ value: a.threshold, scale: "y", label, firing })
      else if (a.metric === "router_error_pct")
        out.throughput.push({ value: a.threshold, scale: "pct", label, firing })
      else if (a.metric === "load_avg_1m") out.load.push({ value: a.threshold, scale: "y", label, firing })
      else if (a.metric === "memory_quota_pct" && quotaByType[a.processType])
        out.memory.push({
          value: (quotaByType[a.processType] * a.threshold) / 100,
          scale: "y",
          label,
          firing,
        })
    }
    return out
  }

  const errorsTable = (w, errors) => {
    const rows = new Map()
    for (const s of errors.series) {
      const r = rows.get(s.label) || { code: s.label, count: 0, types: new Set(), last: 0 }
      for (const p of s.points) {
        r.count += p.sum
        if (p.sum > 0) r.last = Math.max(r.last, Date.parse(p.time))
      }
      if (s.processType) r.types.add(s.processType)
      rows.set(s.label, r)
    }
    const sorted = [...rows.values()].filter((r) => r.count > 0).sort((a, b) => b.count - a.count)
    const body = $("#error-codes tbody")
    body.replaceChildren(
      ...sorted.map((r) => {
        const [description, hint] = ERROR_CODES[r.code] || ["(not a documented Heroku code)", ""]
        const href = `https://devcenter.heroku.com/articles/error-codes#${`${r.code}-${description}`.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`
        return el(
          "tr",
          { dataset: { code: r.code } },
          el("td", {}, el("a", { href, textContent: r.code, rel: "noreferrer", target: "_blank" })),
          el(
            "td",
            {},
            el("span", { className: "desc", textContent: description }),
            hint ? el("small", { textContent: hint }) : "",
          ),
          el("td", { className: "n", textContent: r.count.toLocaleString() }),
          el("td", { textContent: [...r.types].join(", ") }),
          el(
            "td",
            {},
            el("time", { dateTime: new Date(r.last).toISOString(), textContent: fmtTime(r.last) }),
          ),
        )
      }),
    )
    $("#error-codes .none").hidden = sorted.length > 0
    $("#errors-unit").textContent = `count per ${w.step} · by code`
  }

  const eventsList = (events) => {
    const newest = events.slice().reverse()
    const shown = newest.slice(0, 500)
    $("#events tbody").replaceChildren(
      ...shown.map((e) =>
        el(
          "tr",
          { dataset: { kind: e.kind } },
          el("td", {}, el("time", { dateTime: new Date(e.t).toISOString(), textContent: fmtTime(e.t) })),
          el("td", {}, el("span", { className: `m ${e.kind}`, textContent: e.kind })),
          el("td", { textContent: e.process }),
          el("td", { className: "desc", textContent: e.description }),
          el("td", { textContent: e.actor }),
        ),
      ),
      ...(newest.length > shown.length
        ? [el("tr", {}, el("td", { colSpan: 5, textContent: `and ${newest.length - shown.length} earlier` }))]
        : []),
    )
    $("#events .none").hidden = events.length > 0
  }

  /** What to do when an app has sent nothing yet: add the drain (its URL was printed once). */
  const teachDrain = (app) => {
    const name = app.name || "<app>"
    return [
      el("h2", { textContent: `No data from ${name} yet` }),
      el(
        "p",
        {},
        "tally gets an app's metrics from its Heroku log drain. Add the drain URL to the Heroku app: ",
        el("pre", {}, code(`heroku drains:add '<drain URL>' -a ${name}`)),
      ),
      el(
        "p",
        {},
        "The drain URL (",
        code("http://tally:<secret>@your-host/logs"),
        ") was printed once, by ",
        code("tally apps create"),
        " or the ",
        code("POST /api/v1/apps"),
        " answer: tally keeps only a digest of its secret, so it cannot be shown again. Lost it? ",
        code(`tally apps rotate ${name} --drain-secret`),
        " prints a new one (the old one stops working).",
      ),
      el(
        "p",
        {},
        "Router metrics arrive with the first requests. Memory and load need Heroku's runtime metrics: ",
        code(`heroku labs:enable log-runtime-metrics -a ${name}`),
        ", then restart the dynos. Charts fill within a minute or two.",
      ),
    ]
  }

  const showEmpty = (children) => {
    const e = $("#empty")
    e.replaceChildren(...children)
    e.hidden = false
    $("#charts").hidden = true
  }

  const render = (w, r) => {
    const { memTotal, memRss, memSwap, memQuota, load, service, status, errors, events, alerts } = r
    const pt = state.processType
    const forType = pt ? ` for ${pt}` : ""
    banner(alerts)
    const evs = events.events.map((e) => ({ ...e, t: Date.parse(e.time) }))
    const quotaByType = {}
    for (const s of memQuota.series)
      for (const p of s.points) quotaByType[s.processType] = Math.max(quotaByType[s.processType] || 0, p.max)
    const th = thresholdsOf(alerts, quotaByType)
    const any = [memTotal, load, service, status, errors].some((m) => m.series.length > 0)
    if (!any && state.app.processTypes.length === 0 && evs.length === 0) {
      showEmpty(teachDrain(state.app))
      return
    }
    $("#empty").hidden = true
    $("#charts").hidden = false

    const routerHint = [
      `No router requests in this range${forType}. The Heroku router logs requests to web dynos only; `,
      "its lines arrive through the app's drain.",
    ]
    const dynoHint = [
      `No dyno samples in this range${forType}. Heroku logs memory and load when runtime metrics are on: `,
      code(`heroku labs:enable log-runtime-metrics -a ${state.app.name}`),
      ".",
    ]

    // Response time: percentiles per process type (sketches do not merge here), and the max.
    const latency = service.series.flatMap((s, i) => {
      const prefix = service.series.length > 1 ? `${s.processType} ` : ""
      const at = new Map(s.points.map((p) => [Date.parse(p.time) / 1000, p]))
      const v = (f) => w.xs.map((x) => (at.has(x) ? f(at.get(x)) : null)).map((n) => (n > 0 ? n : null))
      return [
        { label: `${prefix}median`, values: v((p) => p.p50), color: COLORS[(i * 4) % 8] },
        { label: `${prefix}p95`, values: v((p) => p.p95), color: COLORS[(i * 4 + 1) % 8] },
        { label: `${prefix}p99`, values: v((p) => p.p99), color: COLORS[(i * 4 + 2) % 8] },
        {
          label: `${prefix}max`,
          values: v((p) => p.max),
          color: COLORS[(i * 4 + 3) % 8],
          dash: [3, 3],
          width: 1,
        },
      ]
    })
    chart("chart-latency", w, {
      lines: latency,
      y: { fmt: ms, log: true },
      thresholds: th.latency,
      events: evs,
      empty: routerHint,
    })

    // Throughput: requests per minute, whatever the step, so the scale keeps between ranges.
    const perMinute = w.stepMs / MIN
    const byClass = Object.keys(CLASSES).map((c) =>
      pick(
        combine(
          w,
          status.series.filter((s) => `${s.label[0]}xx` === c),
        ),
        (a) => a.count / perMinute,
      ),
    )
    const total = w.xs.map((_, k) => byClass.reduce((n, v) => (v[k] == null ? n : (n ?? 0) + v[k]), null))
    const failedPct = w.xs.map((_, k) => (total[k] ? (100 * (byClass[3][k] ?? 0)) / total[k] : null))
    chart("chart-throughput", w, {
      lines: [
        ...Object.entries(CLASSES)
          .map(([c, color], k) => ({ label: c, values: byClass[k], color, fill: `${color}22` }))
          .filter((l) => l.values.some((v) => v != null)),
        ...(total.some((v) => v != null)
          ? [
              {
                label: "5xx %",
                values: failedPct,
                color: "#ff8fa3",
                dash: [2, 3],
                width: 1,
                scale: "pct",
                fmt: fixed(1, " %"),
              },
            ]
          : []),
      ],
      y: { fmt: compact },
      y2: { fmt: (v) => (v == null ? "" : `${compact(v)} %`) },
      thresholds: th.throughput,
      events: evs,
      empty: routerHint,
    })

    // Memory: total (mean, max), RSS and swap (means), quota; every dyno of the chosen process type(s).
    const total_ = combine(w, memTotal.series)
    const memLines = [
      { label: "total", values: pick(total_, mean), color: "#6ea8fe" },
      { label: "max total", values: pick(total_, (a) => a.max), color: "#6ea8fe", dash: [5, 4], width: 1 },
      { label: "RSS", values: pick(combine(w, memRss.series), mean), color: "#7ee2a8" },
      { label: "swap", values: pick(combine(w, memSwap.series), mean), color: "#c792ea" },
      { label: "quota", values: pick(combine(w, memQuota.series), (a) => a.max), color: "#ff6b6b", width: 2 },
    ].filter((l, k) => k < 2 || l.values.some((v) => v != null))
    chart("chart-memory", w, {
      lines: memTotal.series.length ? memLines : [],
      y: { fmt: compact },
      thresholds: th.memory,
      events: evs,
      empty: dynoHint,
    })

    const loadAll = combine(w, load.series)
    chart("chart-load", w, {
      lines: load.series.length
        ? [
            { label: "mean", values: pick(loadAll, mean), color: "#ffd166" },
            { label: "max", values: pick(loadAll, (a) => a.max), color: "#f78c6c", dash: [5, 4], width: 1 },
          ]
        : [],
      y: { fmt: compact },
      thresholds: th.load,
      events: evs,
      empty: dynoHint,
    })

    const codes = [...new Set(errors.series.map((s) => s.label))].sort()
    chart("chart-errors", w, {
      lines: codes.map((c, i) => ({
        label: c,
        values: pick(
          combine(
            w,
            errors.series.filter((s) => s.label === c),
          ),
          (a) => a.sum,
        ),
        color: COLORS[(i + 3) % COLORS.length],
        fill: `${COLORS[(i + 3) % COLORS.length]}aa`,
        bars: true,
      })),
      y: { fmt: compact },
      thresholds: [],
      events: evs,
      empty: [`No errors in this range${forType}.`],
    })

    errorsTable(w, errors)
    eventsList(evs)
    const focus = params.get("metric")
    if (focus) document.querySelector(`.chart[data-metric="${CSS.escape(focus)}"]`)?.classList.add("focus")
  }

  const load = async () => {
    if (!state.app) return
    const seq = ++state.seq
    const w = rangeWindow()
    state.window = { fromMs: w.fromMs, toMs: w.toMs, step: w.step }
    const base = `/api/v1/apps/${state.app.owner}`
    const range = `from=${new Date(w.fromMs).toISOString()}&to=${new Date(w.toMs).toISOString()}`
    const pt = state.processType ? `&process_type=${encodeURIComponent(state.processType)}` : ""
    const metric = (m) => api(`${base}/metrics/${m}?${range}&step=${w.step}${pt}`)
    setStatus("Loading…")
    try {
      const [memTotal, memRss, memSwap, memQuota, load, service, status, errors, events, alerts] =
        await Promise.all([
          metric("memory_total"),
          metric("memory_rss"),
          metric("memory_swap"),
          metric("memory_quota"),
          metric("load_avg_1m"),
          metric("router_service_ms"),
          metric("router_status"),
          metric("errors"),
          api(`${base}/events?${range}`),
          api(`${base}/alerts`).then(
            (a) => a.alerts,
            () => [],
          ),
        ])
      if (seq !== state.seq) return
      render(w, { memTotal, memRss, memSwap, memQuota, load, service, status, errors, events, alerts })
      const answers = [memTotal, memRss, memSwap, memQuota, load, service, status, errors]
      const missing = [...new Set([...answers, events].flatMap((a) => a.missing))]
      const cut = [...answers, events].find((a) => a.truncated)
      setStatus(
        [
          `Past ${state.range} at ${w.step}`,
          `${events.events.length} events`,
          ...(missing.length ? [`partial: shards of ${missing.join(", ")} did not answer`] : []),
          ...(cut ? [`partial: ${cut.truncated.message}`] : []),
          `updated ${timeFormat({ hour: "2-digit", minute: "2-digit", second: "2-digit" }).format(Date.now())}`,
        ].join(" · "),
      )
      document.body.dataset.loaded = String(seq)
    } catch (e) {
      if (seq === state.seq) setStatus(`Could not load: ${e.message}`)
    }
  }

  // ---- app, process type, token --------------------------------------------------------------------

  const selectApp = (app) => {
    state.app = { ...app, processTypes: app.processTypes || [] }
    $("#app-name").textContent = app.name || app.owner
    document.title = `${app.name || app.owner} · tally`
    if (state.admin) {
      sessionStorage.setItem("tally.owner", app.owner)
      $("#app-select").value = app.owner
    }
    const types = state.app.processTypes
    if (state.processType && !types.includes(state.processType)) state.processType = ""
    $("#process").replaceChildren(
      el("option", { value: "", textContent: "all process types" }),
      ...types.map((t) => el("option", { value: t, textContent: t })),
    )
    $("#process").value = state.processType
    $("#process-pick").hidden = false
    return load()
  }

  const showLogin = (message) => {
    $("#login").hidden = false
    $("#token").focus()
    if (message) setStatus(message)
  }

  const open = async () => {
    setStatus("Checking the token…")
    state.app = null
    // A read token (tly_r_…) names its app; any other token may be the admin token.
    const me = state.token.startsWith("tly_r_") ? await api("/api/v1/me").catch((e) => e) : undefined
    if (me instanceof Error && me.status !== 401) return setStatus(`Could not reach tally: ${me.message}`)
    if (me && !(me instanceof Error)) {
      state.admin = false
      localStorage.setItem("tally.token", state.token)
      sessionStorage.removeItem("tally.token")
      $("#app-pick").hidden = true
      $("#login").hidden = true
      return selectApp(me)
    }
    let list
    try {
      list = await api("/api/v1/apps")
    } catch (e) {
      return showLogin(
        e.status === 401
          ? "That token was not accepted: paste a read token of an app (tly_r_…) or the admin token."
          : `Could not reach tally: ${e.message}`,
      )
    }
    // The admin token: every app, kept for this tab only.
    state.admin = true
    sessionStorage.setItem("tally.token", state.token)
    localStorage.removeItem("tally.token")
    $("#login").hidden = true
    state.apps = list.apps
    $("#app-select").replaceChildren(
      ...list.apps.map((a) => el("option", { value: a.owner, textContent: a.name })),
    )
    $("#app-pick").hidden = list.apps.length === 0
    if (list.apps.length === 0) {
      $("#app-name").textContent = "no apps yet"
      setStatus("The admin token works; there is no app yet.")
      return showEmpty([
        el("h2", { textContent: "No apps yet" }),
        el(
          "p",
          {},
          "Create one (it prints the app's drain URL and read token, once): ",
          el("pre", {}, code("tally apps create my-app")),
          "then add the drain to the Heroku app: ",
          el("pre", {}, code("heroku drains:add '<drain URL>' -a my-app")),
        ),
      ])
    }
    const wanted = params.get("owner") || sessionStorage.getItem("tally.owner")
    const chosen = list.apps.find((a) => a.owner === wanted) || list.apps[0]
    return pickApp(chosen.owner)
  }

  const pickApp = async (owner) => {
    try {
      return await selectApp(await api(`/api/v1/apps/${owner}`))
    } catch (e) {
      setStatus(`Could not open that app: ${e.message}`)
    }
  }

  const signOut = () => {
    localStorage.removeItem("tally.token")
    sessionStorage.removeItem("tally.token")
    sessionStorage.removeItem("tally.owner")
    state.token = ""
    state.app = null
    for (const c of Object.values(state.charts)) c.destroy()
    state.charts = {}
    $("#charts").hidden = true
    $("#empty").hidden = true
    $("#banner").hidden = true
    $("#app-pick").hidden = true
    $("#process-pick").hidden = true
    $("#app-name").textContent = "metrics"
    $("#token").value = ""
    showLogin("Token forgotten. Paste a read token or the admin token to continue.")
  }

  // ---- controls ------------------------------------------------------------------------------------

  const showRange = () => {
    for (const b of document.querySelectorAll("#ranges button"))
      b.classList.toggle("on", b.dataset.range === state.range)
  }
  const showZone = () => {
    $("#tz").textContent = state.utc ? "UTC" : "Local time"
    $("#tz").setAttribute("aria-pressed", String(state.utc))
    $("#tz-name").textContent = zoneName()
  }

  $("#login").addEventListener("submit", (e) => {
    e.preventDefault()
    state.token = $("#token").value.trim()
    if (state.token) open()
  })
  $("#signout").addEventListener("click", signOut)
  $("#token-toggle").addEventListener("click", () => {
    $("#login").hidden = !$("#login").hidden
  })
  $("#app-select").addEventListener("change", (e) => pickApp(e.target.value))
  $("#process").addEventListener("change", (e) => {
    state.processType = e.target.value
    load()
  })
  for (const b of document.querySelectorAll("#ranges button"))
    b.addEventListener("click", () => {
      state.range = b.dataset.range
      localStorage.setItem("tally.range", state.range)
      showRange()
      load()
    })
  $("#tz").addEventListener("click", () => {
    state.utc = !state.utc
    localStorage.setItem("tally.tz", state.utc ? "utc" : "local")
    showZone()
    load()
  })
  let resizing
  window.addEventListener("resize", () => {
    clearTimeout(resizing)
    resizing = setTimeout(() => {
      for (const [id, u] of Object.entries(state.charts))
        u.setSize({ width: Math.max(280, $(`#${id} .plot`).clientWidth), height: 220 })
    }, 150)
  })
  setInterval(() => {
    if (state.app && !document.hidden) load()
  }, 30_000)

  showRange()
  showZone()
  if (state.token) {
    $("#token").value = state.token
    open()
  } else showLogin("Paste a read token or the admin token to see an app's metrics.")
})()
