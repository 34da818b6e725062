// A JSON-file implementation of the session client's Storage, so that session-chat keeps its
// poll cursor, seen hashes, profile and swarm cache between runs.
import fs from "node:fs";
import path from "node:path";

/** Key/value storage kept in one JSON file (written atomically on every change). */
export class JsonFileStorage {
  private readonly data: Record<string, string>;

  constructor(private readonly file: string) {
    let data: Record<string, string> = {};
    try {
      const raw = JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
      if (raw && typeof raw === "object" && !Array.isArray(raw)) data = raw as Record<string, string>;
    } catch {
      data = {};
    }
    this.data = data;
  }

  get(key: string): Promise<string | undefined> {
    return Promise.resolve(Object.hasOwn(this.data, key) ? this.data[key] : undefined);
  }

  set(key: string, value: string): Promise<void> {
    this.data[key] = value;
    this.flush();
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    delete this.data[key];
    this.flush();
    return Promise.resolve();
  }

  private flush(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.data), { mode: 0o600 });
    fs.renameSync(tmp, this.file);
  }
}
