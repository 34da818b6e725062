import { describe, expect, it } from "vitest";
import { isPluginError } from "./errors.js";
import { MAX_STORE_VALUE_BYTES, MemoryStoreBackend, conversationToken, createStore } from "./store.js";

describe("createStore", () => {
  it("round-trips JSON values and lists keys", async () => {
    const store = createStore(new MemoryStoreBackend());
    await store.set("b", { n: 1 });
    await store.set("a.x", [1, "two"]);
    expect(await store.get("b")).toEqual({ n: 1 });
    expect(await store.get("a.x")).toEqual([1, "two"]);
    expect(await store.get("missing")).toBeUndefined();
    expect(await store.keys()).toEqual(["a.x", "b"]);
    expect(await store.keys("a.")).toEqual(["a.x"]);
    await store.delete("b");
    expect(await store.get("b")).toBeUndefined();
  });

  it("scopes a conversation's keys and keeps them apart", async () => {
    const backend = new MemoryStoreBackend();
    const store = createStore(backend);
    const c1 = store.conversation("05" + "a".repeat(64));
    const c2 = store.conversation("group:weird id");
    await c1.set("count", 1);
    await c2.set("count", 2);
    expect(await c1.get("count")).toBe(1);
    expect(await c2.get("count")).toBe(2);
    expect(await c1.keys()).toEqual(["count"]);
    expect([...backend.data.keys()].sort()).toEqual([`c.${"05" + "a".repeat(64)}.count`, `c.${conversationToken("group:weird id")}.count`].sort());
  });

  it("refuses bad keys and reserved ones with PLUGIN_INVALID_KEY", async () => {
    const store = createStore(new MemoryStoreBackend());
    for (const key of ["", "a b", "a..b", ".a", "a.", "_lease", "x*", "a>"]) {
      await expect(store.set(key, 1)).rejects.toSatisfy((e) => isPluginError(e, "PLUGIN_INVALID_KEY"));
    }
  });

  it("refuses values that are too large or not JSON", async () => {
    const store = createStore(new MemoryStoreBackend());
    await expect(store.set("big", "x".repeat(MAX_STORE_VALUE_BYTES))).rejects.toSatisfy((e) => isPluginError(e, "PLUGIN_INVALID_VALUE"));
    await expect(store.set("fn", () => 1)).rejects.toSatisfy((e) => isPluginError(e, "PLUGIN_INVALID_VALUE"));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(store.set("cyc", cyclic)).rejects.toSatisfy((e) => isPluginError(e, "PLUGIN_INVALID_VALUE"));
  });

  it("hides host-reserved keys from listings", async () => {
    const backend = new MemoryStoreBackend();
    await backend.put("_lease.tick", new Uint8Array([1]));
    const store = createStore(backend);
    await store.set("k", 1);
    expect(await store.keys()).toEqual(["k"]);
  });
});
