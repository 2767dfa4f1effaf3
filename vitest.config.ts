import { defineConfig } from "vitest/config"
import { LongestFirst } from "./test/sequencer.ts"

export default defineConfig({
  test: {
    globalSetup: ["test/globalSetup.ts"],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ["default", "json"],
    outputFile: { json: "test-output/results.json" },
    // The longest files start first, on a fresh clone too (test/sequencer.ts).
    sequence: { sequencer: LongestFirst },
    projects: [
      {
        extends: true,
        test: {
          name: "suite",
          include: ["test/**/*.test.ts"],
          // The files mostly wait on brokers, databases and child processes: more of them at once than
          // cores (vitest's default is cores - 1, one file at a time here) keeps the suite short.
          maxWorkers: 4,
          exclude: ["test/**/*.disruptive.test.ts"],
          sequence: { groupOrder: 1 },
        },
      },
      {
        // Tests that stop and start the shared broker (or shards): one file at a time, after the rest.
        extends: true,
        test: {
          name: "disruptive",
          include: ["test/**/*.disruptive.test.ts"],
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
})
