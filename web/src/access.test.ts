import { describe, expect, it } from "vitest";

import { allows } from "./access";
import type { Me } from "./api";

const me = (scope: Me["scope"]): Me => ({ name: "k", key_id: 1, scope, garages: null, open: false });

describe("scopes", () => {
  it("nest: read < write < admin", () => {
    expect(allows(me("read"), "read")).toBe(true);
    expect(allows(me("read"), "write")).toBe(false);
    expect(allows(me("write"), "write")).toBe(true);
    expect(allows(me("write"), "admin")).toBe(false);
    expect(allows(me("admin"), "write")).toBe(true);
  });

  it("allow nothing without a scope or an answer", () => {
    expect(allows(me(null), "read")).toBe(false);
    expect(allows(undefined, "read")).toBe(false);
  });
});
