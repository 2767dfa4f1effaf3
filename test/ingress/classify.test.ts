import { describe, expect, it } from "vitest"
import type { Measurement } from "../../src/domain/Measurement.ts"
import { classify } from "../../src/ingress/Classify.ts"
import { parseTimestamp } from "../../src/ingress/Syslog.ts"

const T = 1_795_867_200_000_000
const run = (app: string, proc: string, msg: string) => {
  const out: Array<Measurement> = []
  const n = classify(app, proc, msg, T, out)
  expect(n).toBe(out.length)
  return out
}

describe("router lines", () => {
  it("at=info: a request with its latencies, bytes and the dyno's process type", () => {
    const [r] = run(
      "heroku",
      "router",
      'at=info method=GET path="/a b" host=x.herokuapp.com request_id=r1 fwd="1.2.3.4,5.6.7.8" dyno=worker.3 connect=1ms service=22ms status=201 bytes=656 protocol=https tls_version=tls1.3',
    )
    expect(r).toEqual({
      type: "ROUTER_REQUESTS",
      processType: "worker",
      dyno: "worker.3",
      timeUs: T,
      at: "info",
      method: "GET",
      path: "/a b",
      host: "x.herokuapp.com",
      requestId: "r1",
      fwd: "1.2.3.4,5.6.7.8",
      status: 201,
      connectMs: 1,
      serviceMs: 22,
      bytes: 656,
      protocol: "https",
      code: "",
      desc: "",
    })
  })

  it("at=error with an H code: a request and an error, detected by code= not at=", () => {
    const out = run(
      "heroku",
      "router",
      'sock=client at=warning code=H27 desc="Client Request Interrupted" method=POST path="/" host=h request_id=r2 fwd="1.1.1.1" dyno=web.1 connect=0ms service=5ms status=499 bytes=0',
    )
    expect(out.map((m) => m.type)).toEqual(["ROUTER_REQUESTS", "ERRORS"])
    expect(out[1]).toMatchObject({
      code: "H27",
      count: 1,
      processType: "web",
      description: "Client Request Interrupted",
    })
  })

  it("H12 with service time without unit still yields its latency", () => {
    const [r] = run(
      "heroku",
      "router",
      'at=error code=H12 desc="Request timeout" method=GET path="/slow" dyno=web.2 connect=2 service=30000 status=503 bytes=0',
    )
    expect(r).toMatchObject({ connectMs: 2, serviceMs: 30000, status: 503 })
  })

  it("an app printing router-looking text is ignored", () => {
    expect(run("app", "web.1", "at=info method=GET status=200 service=5ms")).toEqual([])
  })
})

describe("dyno lines", () => {
  it("R14 from a dyno is an error of its process type", () => {
    expect(run("heroku", "web.3", "Error R14 (Memory quota exceeded)")).toEqual([
      {
        type: "ERRORS",
        processType: "web",
        dyno: "web.3",
        timeUs: T,
        code: "R14",
        count: 1,
        description: "Memory quota exceeded",
      },
    ])
  })

  it("Process running mem= is ignored", () => {
    expect(run("heroku", "web.3", "Process running mem=524M(102.5%)")).toEqual([])
  })

  it.each([
    ["State changed from up to crashed", "crash"],
    ["State changed from starting to up", "state"],
    ["Process exited with status 137", "state"],
    ["Stopping all processes with SIGTERM", "state"],
    ["Restarting", "restart"],
    ["Cycling", "restart"],
  ])("%s is a %s event", (msg, kind) => {
    expect(run("heroku", "worker.1", msg)).toEqual([
      {
        type: "PLATFORM_EVENTS",
        processType: "worker",
        dyno: "worker.1",
        timeUs: T,
        kind,
        process: "worker.1",
        description: msg,
        actor: "",
      },
    ])
  })

  it("memory samples in other units are converted to MB; a load line on its own dyno", () => {
    const [m] = run(
      "heroku",
      "web.1",
      "source=web.1 dyno=heroku.1.x sample#memory_total=1.5GB sample#memory_rss=512kB",
    )
    expect(m).toMatchObject({ type: "DYNO_MEMORY", memoryTotal: 1536, memoryRss: 0.5 })
    const [l] = run("heroku", "scheduler.4", "source=scheduler.4 dyno=heroku.2.y sample#load_avg_1m=1.25")
    expect(l).toMatchObject({
      type: "DYNO_LOAD",
      processType: "scheduler",
      dyno: "scheduler.4",
      loadAvg1m: 1.25,
    })
    expect((l as { loadAvg5m?: number }).loadAvg5m).toBeUndefined()
  })
})

describe("sample keys", () => {
  it("keys named like Object's own properties are not samples", () => {
    for (const key of ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"])
      expect(run("heroku", "web.1", `source=web.1 sample#${key}=5MB ${key}=1 sample#load_${key}=2`)).toEqual(
        [],
      )
    const [m] = run("heroku", "web.1", "source=web.1 sample#__proto__=5MB sample#memory_rss=3MB")
    expect(m).toEqual({ type: "DYNO_MEMORY", processType: "web", dyno: "web.1", timeUs: T, memoryRss: 3 })
  })
})

describe("Logplex and API lines", () => {
  it("L10, both wordings, counts the dropped messages", () => {
    expect(
      run(
        "heroku",
        "logplex",
        "Error L10 (output buffer overflow): 12 messages dropped since 2015-05-09T20:19:03+00:00.",
      )[0],
    ).toMatchObject({
      code: "L10",
      count: 12,
      processType: "logplex",
    })
    expect(
      run("heroku", "logplex", "drain 'd.8c5a1b8e' dropped 7 messages since 2024-01-01T00:00:00+00:00.")[0],
    ).toMatchObject({
      code: "L10",
      count: 7,
    })
  })

  it.each([
    ["app", "Deploy 1a2b3c4 by user ada@example.com", "deploy", "Deploy 1a2b3c4", "ada@example.com"],
    ["heroku", "Scale to web=3 by ada@example.com", "scale", "Scale to web=3", "ada@example.com"],
    [
      "app",
      "Set FOO, BAR config vars by user ada@example.com",
      "config",
      "Set FOO, BAR config vars",
      "ada@example.com",
    ],
    ["app", "Rollback to v41 by user ada@example.com", "release", "Rollback to v41", "ada@example.com"],
  ])("%s api: %s", (app, msg, kind, description, actor) => {
    expect(run(app, "api", msg)).toEqual([
      {
        type: "PLATFORM_EVENTS",
        processType: "api",
        dyno: "",
        timeUs: T,
        kind,
        process: "api",
        description,
        actor,
      },
    ])
  })

  it("an unknown API line is ignored", () => {
    expect(run("app", "api", "Attach DATABASE by user ada@example.com")).toEqual([])
  })
})

describe("timestamps", () => {
  const ts = (s: string) => parseTimestamp(Buffer.from(s), 0, s.length)
  it.each([
    ["2026-11-28T12:00:00Z", 1_795_867_200_000_000],
    ["2026-11-28T12:00:00+00:00", 1_795_867_200_000_000],
    ["2026-11-28T12:00:00.1+00:00", 1_795_867_200_100_000],
    ["2026-11-28T12:00:00.123+00:00", 1_795_867_200_123_000],
    ["2026-11-28T12:00:00.12345Z", 1_795_867_200_123_450],
    ["2026-11-28T12:00:00.123456+00:00", 1_795_867_200_123_456],
    ["2026-11-28T13:30:00.5+01:30", 1_795_867_200_500_000],
    ["2026-11-28T10:00:00-02:00", 1_795_867_200_000_000],
  ])("%s", (s, us) => {
    expect(ts(s)).toBe(us)
  })
  it.each([
    "-",
    "2026-11-28 12:00:00Z",
    "2026-13-28T12:00:00Z",
    "2026-11-28T12:00:00",
    "2026-11-28T12:00:00.Z",
    "2026-11-28T12:00:00+0000",
  ])("%s is not a timestamp", (s) => {
    expect(ts(s)).toBeNaN()
  })
})
