// The admin API client of the page. The token lives in this closure only (never in storage).

/** An error answered by the gateway (RFC 9457 problem). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = problem?.code ?? "HTTP_ERROR";
    this.errors = problem?.errors ?? [];
  }
}

/** Builds a client bound to one token. */
export function createApi(token) {
  async function call(method, path, body) {
    const headers = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const type = res.headers.get("content-type") ?? "";
    const data = type.includes("json") ? await res.json() : undefined;
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  }
  const q = (params) => {
    const s = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null)).toString();
    return s ? `?${s}` : "";
  };
  const enc = encodeURIComponent;
  return {
    bot: () => call("GET", "/admin/bot"),
    updateProfile: (displayName) => call("PUT", "/admin/profile", { displayName }),
    workers: () => call("GET", "/admin/workers"),
    streams: () => call("GET", "/admin/streams"),
    plugins: () => call("GET", "/admin/plugins"),
    manifest: (name) => call("GET", `/admin/plugins/${enc(name)}/manifest`),
    patchPlugin: (name, patch) => call("PATCH", `/admin/plugins/${enc(name)}`, patch),
    conversations: (cursor) => call("GET", `/admin/conversations${q({ cursor, limit: 50 })}`),
    messages: (id) => call("GET", `/admin/conversations/${enc(id)}/messages${q({ limit: 100 })}`),
    block: (id) => call("POST", `/admin/conversations/${enc(id)}/block`),
    unblock: (id) => call("POST", `/admin/conversations/${enc(id)}/unblock`),
    send: (conversation, text) => call("POST", "/admin/messages", { conversation, text }),
    deadLetters: () => call("GET", `/admin/dead-letters${q({ limit: 100 })}`),
    retry: (id) => call("POST", `/admin/dead-letters/${enc(id)}/retry`),
  };
}
