[
  {
    "file": "/work/wt-struct/test/structure.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/catalog.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/channel-limits.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/channel-locks.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/channel.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/chaos-memory.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/chaos.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/codec-catalog.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/codec-roundtrip.property.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/concurrency.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/config.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/conformance.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/control-plane.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/dashboard-live.browser.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/db-once.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/db-proxy-restart.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/db.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/entrypoints.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/errors-doc.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/faults.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/nest-codec.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/nest-conformance.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/nest-refusals.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/nest-shadow.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/nest.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/refinement.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/request-catalog.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/shadow-judge.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/shadow.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/tls-channel.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/test/workers-busy.test.ts"
  },
  {
    "file": "/work/wt-struct/bin/test/cli.test.ts"
  },
  {
    "file": "/work/wt-struct/examples/demo/demo.test.ts"
  },
  {
    "file": "/work/wt-struct/infra/test/cli.test.ts"
  },
  {
    "file": "/work/wt-struct/infra/test/deploy-files.test.ts"
  },
  {
    "file": "/work/wt-struct/infra/test/package-contents.test.ts"
  },
  {
    "file": "/work/wt-struct/protocol/test/closed-world.test.ts"
  },
  {
    "file": "/work/wt-struct/protocol/test/codec.test.ts"
  },
  {
    "file": "/work/wt-struct/proxy/test/bad-input.test.ts"
  },
  {
    "file": "/work/wt-struct/proxy/test/cli.test.ts"
  },
  {
    "file": "/work/wt-struct/proxy/test/defer.test.ts"
  },
  {
    "file": "/work/wt-struct/proxy/test/errors-doc.test.ts"
  },
  {
    "file": "/work/wt-struct/proxy/test/grant-defer.test.ts"
  },
  {
    "file": "/work/wt-struct/proxy/test/handoff.test.ts"
  },
  {
    "file": "/work/wt-struct/proxy/test/limits.test.ts"
  },
  {
    "file": "/work/wt-struct/proxy/test/options.test.ts"
  },
  {
    "file": "/work/wt-struct/proxy/test/pack.test.ts"
  },
  {
    "file": "/work/wt-struct/proxy/test/pg-client.test.ts"
  },
  {
    "file": "/work/wt-struct/proxy/test/pooling.test.ts"
  },
  {
    "file": "/work/wt-struct/proxy/test/postgres-js.test.ts"
  },
  {
    "file": "/work/wt-struct/proxy/test/shadow.test.ts"
  },
  {
    "file": "/work/wt-struct/proxy/test/shared-client.test.ts"
  },
  {
    "file": "/work/wt-struct/proxy/test/smoke.test.ts"
  },
  {
    "file": "/work/wt-struct/proxy/test/startup-edge.test.ts"
  },
  {
    "file": "/work/wt-struct/proxy/test/tls.test.ts"
  },
  {
    "file": "/work/wt-struct/proxy/test/unix-upstream.test.ts"
  },
  {
    "file": "/work/wt-struct/proxy/test/wire.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/admin/test/admin-api.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/admin/test/browser-resolve.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/admin/test/dashboard.browser.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/admin/test/errors-doc.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/admin/test/metrics.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/admin/test/options.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/admin/test/series.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/controller/test/controller.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/controller/test/decide.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/controller/test/recorded.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/controller/test/traces.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/profiler/test/cpu-attribution.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/profiler/test/cpu-profiler.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/profiler/test/histogram.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/profiler/test/select.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/profiler/test/wall-profiler.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/providers/test/cost.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/providers/test/errors-doc.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/providers/test/lambda-provider.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/providers/test/offload-e2e.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/providers/test/openwhisk-provider.test.ts"
  },
  {
    "file": "/work/wt-struct/agent/providers/test/options.test.ts"
  },
  {
    "file": "/work/wt-struct/bench/elastic/test/analyse.test.ts"
  },
  {
    "file": "/work/wt-struct/infra/emulators/test/lambda-emulator.test.ts"
  },
  {
    "file": "/work/wt-struct/infra/emulators/test/lambda-faults.test.ts"
  },
  {
    "file": "/work/wt-struct/infra/emulators/test/openwhisk-emulator.test.ts"
  },
  {
    "file": "/work/wt-struct/infra/package/test/packager.test.ts"
  },
  {
    "file": "/work/wt-struct/infra/package/test/worker-artifact.test.ts"
  }
]