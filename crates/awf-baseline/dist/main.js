// Reports the first interactive paint the same way Studio does (ui/src/lib/perf.ts): once the
// page's content is in the document, two animation frames later it has been painted; the
// `perf_mark` command prints the mark for the benchmark (only when AWF_PERF_MARK=1).
requestAnimationFrame(() =>
  requestAnimationFrame(() => {
    void window.__TAURI_INTERNALS__.invoke("perf_mark", { ms: performance.now() });
  }),
);
