// Vitest: a clean DOM and storage for every test.
import { afterEach } from "vitest";
import { cleanup, configure } from "@testing-library/svelte";

// Sections and the editor are loaded with a dynamic import() when first shown (issue 8); in
// Vitest the first such import of a test file also transforms that module graph, which can take
// over a second on a busy machine: the find*/waitFor helpers wait up to 4 s (tests have 5 s).
configure({ asyncUtilTimeout: 4000 });

afterEach(() => {
  cleanup();
  localStorage.clear();
  sessionStorage.clear();
});
