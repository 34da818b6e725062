import { describe, expect, it } from "vitest";
import { effectiveInstructions, parseDockerfile } from "./dockerfile.js";

describe("parseDockerfile", () => {
  const text = [
    "# top comment",
    "ARG BASE=node:24",
    "FROM ${BASE} AS build",
    "RUN a \\",
    "  # inside",
    "  && b",
    "FROM build AS final",
    "USER 1000",
    "",
  ].join("\n");

  it("reads stages, joined continuation lines and global ARGs", () => {
    const { stages, globalArgs, comments } = parseDockerfile(text);
    expect(globalArgs).toEqual(["BASE=node:24"]);
    expect(comments).toEqual(["# top comment"]);
    expect(stages.map((s) => [s.name, s.base])).toEqual([
      ["build", "${BASE}"],
      ["final", "build"],
    ]);
    expect(stages[0]!.instructions).toEqual([{ keyword: "RUN", args: "a    && b" }]);
  });

  it("inherits the instructions of the parent stage", () => {
    const { stages } = parseDockerfile(text);
    expect(effectiveInstructions(stages, "final").map((i) => i.keyword)).toEqual(["RUN", "USER"]);
  });
});
