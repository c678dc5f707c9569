import { describe, expect, it } from "vitest";
import { createRawSnippet } from "svelte";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import VirtualList from "./VirtualList.svelte";

type Item = { id: string; name: string };

const many = (n: number): Item[] => Array.from({ length: n }, (_, i) => ({ id: `id-${i}`, name: `Item ${i}` }));

const row = createRawSnippet((item: () => Item, index: () => number) => ({
  render: () => `<button data-testid="row" data-i="${index()}">${item().name}</button>`,
}));

function setup(items: Item[], props: Record<string, unknown> = {}) {
  const result = render(VirtualList<Item>, {
    props: { items, key: (i: Item) => i.id, itemHeight: 50, viewportHeight: 500, overscan: 3, row, "aria-label": "things", ...props },
  });
  const list = screen.getByRole("list", { name: "things" });
  // The viewport scrolls; the list inside it is as tall as all its rows.
  return { ...result, list, viewport: list.parentElement! };
}

const names = () => screen.queryAllByTestId("row").map((r) => r.textContent);

async function scrollTo(viewport: HTMLElement, top: number) {
  viewport.scrollTop = top;
  await fireEvent.scroll(viewport);
}

describe("VirtualList", () => {
  it("renders only the rows in view plus the overscan, with padding standing for the rest", () => {
    const { list } = setup(many(1000));
    // 500 px / 50 px = 10 rows in view, 3 more below; none above the first.
    expect(names()).toHaveLength(13);
    expect(names()[0]).toBe("Item 0");
    expect(list.style.paddingTop).toBe("0px");
    expect(list.style.paddingBottom).toBe(`${(1000 - 13) * 50}px`);
    const items = list.querySelectorAll("li");
    expect(items[0]!.getAttribute("aria-posinset")).toBe("1");
    expect(items[0]!.getAttribute("aria-setsize")).toBe("1000");
    expect(items[0]!.style.height).toBe("50px");
  });

  it("renders other rows as the list scrolls", async () => {
    const { list, viewport } = setup(many(1000));
    await scrollTo(viewport, 25_000); // row 500 at the top
    await waitFor(() => expect(names()[0]).toBe("Item 497"));
    expect(names()).toHaveLength(16); // 10 in view, 3 above, 3 below
    expect(names()).not.toContain("Item 0");
    expect(list.style.paddingTop).toBe(`${497 * 50}px`);
    expect(list.querySelector("li")!.getAttribute("aria-posinset")).toBe("498");

    await scrollTo(viewport, 1_000_000); // past the end: clamped to the last screen
    await waitFor(() => expect(names().at(-1)).toBe("Item 999"));
    expect(list.style.paddingBottom).toBe("0px");
  });

  it("renders every row of a short list", () => {
    setup(many(4));
    expect(names()).toEqual(["Item 0", "Item 1", "Item 2", "Item 3"]);
  });

  it("assumes the window's height where nothing can be measured", () => {
    setup(many(1000), { viewportHeight: undefined });
    // jsdom has no layout: its 768 px window gives 16 rows in view, plus 3.
    expect(names()).toHaveLength(Math.ceil(window.innerHeight / 50) + 3);
  });

  it("moves the focus with the keys, rendering rows that were not there", async () => {
    const { viewport } = setup(many(1000));
    const first = screen.getAllByTestId("row")[0]!;
    first.focus();
    await fireEvent.keyDown(first, { key: "ArrowDown" });
    await waitFor(() => expect(document.activeElement?.textContent).toBe("Item 1"));

    await fireEvent.keyDown(document.activeElement!, { key: "End" });
    await waitFor(() => expect(document.activeElement?.textContent).toBe("Item 999"));
    expect(viewport.scrollTop).toBe(1000 * 50 - 500);
    expect(names()).not.toContain("Item 0");

    await fireEvent.keyDown(document.activeElement!, { key: "PageUp" });
    await waitFor(() => expect(document.activeElement?.textContent).toBe("Item 990"));

    await fireEvent.keyDown(document.activeElement!, { key: "Home" });
    await waitFor(() => expect(document.activeElement?.textContent).toBe("Item 0"));
    expect(viewport.scrollTop).toBe(0);
  });

  it("scrolls a row into view only when it is out of view", async () => {
    const { component, viewport } = setup(many(1000));
    component.scrollToIndex(5);
    expect(viewport.scrollTop).toBe(0);
    component.scrollToIndex(600);
    expect(viewport.scrollTop).toBe(601 * 50 - 500);
    await waitFor(() => expect(names()).toContain("Item 600"));
    component.scrollToIndex(100);
    expect(viewport.scrollTop).toBe(100 * 50);
  });

  it("keeps its padding around the rows and brings it along with the first and last rows", () => {
    const { component, list, viewport } = setup(many(100), { padding: 6 });
    expect(list.style.paddingTop).toBe("6px");
    component.scrollToIndex(99);
    expect(viewport.scrollTop).toBe(6 + 100 * 50 + 6 - 500);
    component.scrollToIndex(50);
    expect(viewport.scrollTop).toBe(6 + 50 * 50);
    component.scrollToIndex(0);
    expect(viewport.scrollTop).toBe(0);
  });

  it("follows a change of the items, keyed", async () => {
    const { viewport, rerender } = setup(many(1000));
    await scrollTo(viewport, 25_000);
    await rerender({ items: many(3) });
    // A shorter list clamps the offset.
    await waitFor(() => expect(names()).toEqual(["Item 0", "Item 1", "Item 2"]));
  });
});
