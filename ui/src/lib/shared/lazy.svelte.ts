// Components that are not on the first screen are loaded when first shown (a dynamic `import()`
// Vite splits into a chunk of its own), so start-up parses only what the first screen needs
// (issue 8). Once loaded, a component is kept: showing it again is synchronous.
import { toApiError } from "../api/backend";
import type { ApiError } from "../api/bindings";

export class Lazy<C> {
  /** The component once loaded, else null. */
  #component = $state<C | null>(null);
  /** Why the last load failed (the next `current` read tries again). */
  error = $state<ApiError | null>(null);
  #loading: Promise<C> | null = null;

  constructor(private readonly importer: () => Promise<{ default: C }>) {}

  /** Loads the component (once; again after a failure). */
  load(): Promise<C> {
    this.#loading ??= this.importer().then(
      (module) => {
        this.error = null;
        return (this.#component = module.default);
      },
      (reason: unknown) => {
        this.#loading = null;
        this.error = toApiError(reason);
        throw reason;
      },
    );
    return this.#loading;
  }

  /** The component, or null while it loads; reading it starts the load. */
  get current(): C | null {
    if (!this.#component && !this.#loading && !this.error) this.load().catch(() => undefined);
    return this.#component;
  }
}
