import { describe, expect, it } from "vitest";
import { parseCommand, splitArgs } from "./command.js";

describe("parseCommand", () => {
  it("parses a name and arguments", () => {
    expect(parseCommand("/echo hello  world")).toEqual({ name: "echo", argText: "hello  world", args: ["hello", "world"] });
  });
  it("lower-cases the name and accepts no arguments", () => {
    expect(parseCommand("/HELP")).toEqual({ name: "help", argText: "", args: [] });
  });
  it("keeps newlines in argText", () => {
    expect(parseCommand("/echo a\nb")?.argText).toBe("a\nb");
  });
  it("ignores ordinary text, a bare prefix and invalid names", () => {
    expect(parseCommand("hello")).toBeUndefined();
    expect(parseCommand("/")).toBeUndefined();
    expect(parseCommand("/ 1")).toBeUndefined();
    expect(parseCommand("//comment")).toBeUndefined();
    expect(parseCommand("/1abc")).toBeUndefined();
    expect(parseCommand(`/${"a".repeat(33)}`)).toBeUndefined();
    expect(parseCommand(undefined)).toBeUndefined();
  });
  it("supports another prefix", () => {
    expect(parseCommand("!ping", "!")?.name).toBe("ping");
    expect(parseCommand("/ping", "!")).toBeUndefined();
  });
});

describe("splitArgs", () => {
  it("groups quoted words and unescapes quotes", () => {
    expect(splitArgs('in 5m "take the \\"cake\\"" out')).toEqual(["in", "5m", 'take the "cake"', "out"]);
  });
  it("keeps an empty quoted argument", () => {
    expect(splitArgs('a "" b')).toEqual(["a", "", "b"]);
  });
});
