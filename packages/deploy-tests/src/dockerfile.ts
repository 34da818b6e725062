// A minimal Dockerfile reader: stages and their instructions (continuation lines joined), enough
// to check what each final image declares.

/** One build stage: `FROM <base> AS <name>` and its instructions. */
export interface Stage {
  readonly name: string;
  readonly base: string;
  readonly instructions: { readonly keyword: string; readonly args: string }[];
}

/** Parses the text of a Dockerfile into stages (comments and blank lines dropped). */
export function parseDockerfile(text: string): { stages: Stage[]; globalArgs: string[]; comments: string[] } {
  const logical: string[] = [];
  const comments: string[] = [];
  let acc = "";
  for (const raw of text.split("\n")) {
    const line = raw.trimEnd();
    if (acc === "" && line.trimStart().startsWith("#")) {
      comments.push(line);
      continue;
    }
    if (line.trimStart().startsWith("#")) continue; // comment inside a continued instruction
    if (line.endsWith("\\")) {
      acc += line.slice(0, -1) + " ";
      continue;
    }
    acc += line;
    if (acc.trim() !== "") logical.push(acc.trim());
    acc = "";
  }
  const stages: Stage[] = [];
  const globalArgs: string[] = [];
  for (const l of logical) {
    const m = /^(\S+)\s*(.*)$/.exec(l)!;
    const keyword = m[1]!.toUpperCase();
    const args = m[2] ?? "";
    if (keyword === "FROM") {
      const fm = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/i.exec(args)!;
      stages.push({ name: fm[2] ?? String(stages.length), base: fm[1]!, instructions: [] });
    } else if (stages.length === 0) {
      if (keyword === "ARG") globalArgs.push(args);
    } else {
      (stages[stages.length - 1]!.instructions as { keyword: string; args: string }[]).push({ keyword, args });
    }
  }
  return { stages, globalArgs, comments };
}

/** The instructions a stage has, its own followed by those inherited from stages it is built FROM. */
export function effectiveInstructions(stages: readonly Stage[], name: string): { keyword: string; args: string }[] {
  const stage = stages.find((s) => s.name === name);
  if (!stage) throw new Error(`no stage ${name}`);
  const parent = stages.find((s) => s.name === stage.base);
  return [...(parent ? effectiveInstructions(stages, parent.name) : []), ...stage.instructions];
}
