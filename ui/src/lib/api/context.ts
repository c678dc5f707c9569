// Makes the `Api` available to every component without importing a global.
import { getContext, setContext } from "svelte";
import type { Api } from "./client";

const KEY = Symbol("awf.api");

export function provideApi(api: Api): void {
  setContext(KEY, api);
}

export function useApi(): Api {
  const api = getContext<Api | undefined>(KEY);
  if (!api) throw new Error("useApi() called outside <App>: no Api in context.");
  return api;
}
