/** Realistic drain bodies for benchmarks: the mix a busy web app sends (router, runtime metrics, app logs). */

const frame = (msg: string) => {
  const bytes = Buffer.from(msg, "utf8")
  return Buffer.concat([Buffer.from(`${bytes.length} `), bytes])
}

const iso = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace("Z", "+00:00")
    .replace(/\.(\d{3})/, ".$1123")

/** One line of the mix, deterministic in `i`. */
export const line = (i: number, t0: number): string => {
  const t = iso(t0 + i * 3)
  const dyno = `web.${(i % 4) + 1}`
  switch (i % 10) {
    case 0:
      return `<134>1 ${t} host heroku ${dyno} - source=${dyno} dyno=heroku.1.abc sample#memory_total=${(100 + (i % 50)).toFixed(2)}MB sample#memory_rss=98.10MB sample#memory_cache=1.20MB sample#memory_swap=0.00MB sample#memory_pgpgin=84329pages sample#memory_pgpgout=38140pages sample#memory_quota=512.00MB\n`
    case 1:
    case 2:
    case 3:
      return `<190>1 ${t} host app ${dyno} - Completed 200 OK in ${i % 97}ms (Views: 3.1ms | ActiveRecord: 1.2ms) request_id=5f2c${i}\n`
    default:
      return `<158>1 ${t} host heroku router - at=info method=GET path="/api/items/${i % 1000}" host=example.herokuapp.com request_id=3b5a2c1d-0000-4000-8000-${String(i).padStart(12, "0")} fwd="73.75.38.87" dyno=${dyno} connect=${i % 3}ms service=${(i * 7) % 400}ms status=${i % 50 === 0 ? 500 : 200} bytes=${600 + (i % 900)} protocol=https\n`
  }
}

/** A body of `lines` frames, about 100 KiB for 400 lines (Logplex's target batch size). */
export const body = (lines: number, t0: number, offset = 0): Buffer =>
  Buffer.concat(Array.from({ length: lines }, (_, i) => frame(line(offset + i, t0))))
