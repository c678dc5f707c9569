// Vitest: a clean DOM and storage for every test.
import { afterEach } from "vitest";
import { cleanup } from "@testing-library/svelte";

afterEach(() => {
  cleanup();
  localStorage.clear();
  sessionStorage.clear();
});
