// The admin page: plain ES modules, no build step. Everything it shows comes from the admin API.
import { ApiError, createApi } from "./api.js";

const $ = (sel) => document.querySelector(sel);

/** Creates an element; children are nodes or text (never parsed as HTML). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "checked" || k === "value" || k === "disabled") el[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) el.append(c instanceof Node ? c : String(c));
  return el;
}

const time = (ms) => (typeof ms === "number" ? new Date(ms).toISOString().replace("T", " ").slice(0, 19) : "—");
const short = (id) => (id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : id);

let api;
let refreshTimer;
let currentTab = "bot";
let openConversation;
let conversationCursor = null;

function status(message, kind = "info") {
  const el = $("#status");
  el.textContent = message;
  el.className = kind;
}

function explain(err) {
  if (err instanceof ApiError) {
    const where = err.errors.length ? ` (${err.errors.map((e) => `${e.path}: ${e.message}`).join("; ")})` : "";
    return `${err.code}: ${err.message}${where}`;
  }
  return String(err?.message ?? err);
}

/** Runs `fn`, reporting failures in the status bar; a 401 signs out. */
async function guarded(fn) {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      signOut("Signed out: the token was refused.");
      return undefined;
    }
    status(explain(err), "error");
    return undefined;
  }
}

// ---------------------------------------------------------------- sign in / out

$("#login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("#token");
  const candidate = createApi(input.value.trim());
  input.value = "";
  $("#login-error").textContent = "";
  try {
    await candidate.bot();
  } catch (err) {
    $("#login-error").textContent = err instanceof ApiError && err.status === 401 ? "That token is not valid." : explain(err);
    return;
  }
  api = candidate;
  $("#login").hidden = true;
  $("#console").hidden = false;
  $("#logout").hidden = false;
  status("Signed in.");
  await show("bot");
});

function signOut(message = "Signed out.") {
  api = undefined;
  clearInterval(refreshTimer);
  $("#console").hidden = true;
  $("#logout").hidden = true;
  $("#login").hidden = false;
  status(message);
}
$("#logout").addEventListener("click", () => signOut());

// ---------------------------------------------------------------- tabs

for (const button of document.querySelectorAll("nav [data-tab]")) {
  button.addEventListener("click", () => void show(button.dataset.tab));
}

async function show(tab) {
  currentTab = tab;
  for (const b of document.querySelectorAll("nav [data-tab]")) b.classList.toggle("active", b.dataset.tab === tab);
  for (const p of document.querySelectorAll("[data-panel]")) p.hidden = p.dataset.panel !== tab;
  clearInterval(refreshTimer);
  // Live views refresh while they are shown (set before awaiting, so a quick tab switch clears it).
  if (tab === "workers" || tab === "bot") refreshTimer = setInterval(() => void refresh(), 3000);
  await refresh();
}

async function refresh() {
  if (!api) return;
  if (currentTab === "bot") await renderBot();
  else if (currentTab === "workers") await renderWorkers();
  else if (currentTab === "plugins") await renderPlugins();
  else if (currentTab === "conversations") await renderConversations(true);
  else if (currentTab === "dead-letters") await renderDeadLetters();
}

// ---------------------------------------------------------------- bot

async function renderBot() {
  const [bot, streams] = await Promise.all([guarded(() => api.bot()), guarded(() => api.streams())]);
  if (bot) {
    const rows = [
      ["Bot", bot.bot],
      ["Session ID", bot.sessionId],
      ["Display name", bot.displayName],
      ["Broker version", bot.version],
      ["Started", time(bot.startedAt)],
      ["Received / sent", `${bot.counters.received} / ${bot.counters.sent}`],
      ["Dropped / dead-lettered", `${bot.counters.dropped} / ${bot.counters.deadLettered}`],
    ];
    $("#bot-info").replaceChildren(...rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", { "data-field": k }, v)]));
    const input = $("#display-name");
    if (document.activeElement !== input) input.value = bot.displayName;
  }
  if (streams) {
    const rows = streams.items.flatMap((s) =>
      s.consumers.length === 0
        ? [h("tr", {}, h("td", {}, s.stream), h("td", {}, s.messages), h("td", {}, "—"), h("td", {}, "—"), h("td", {}, "—"))]
        : s.consumers.map((c) => h("tr", {}, h("td", {}, s.stream), h("td", {}, s.messages), h("td", {}, c.consumer), h("td", {}, c.pending), h("td", {}, c.ackPending))),
    );
    $("#streams tbody").replaceChildren(...rows);
  }
}

$("#profile-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = $("#display-name").value.trim();
  const bot = await guarded(() => api.updateProfile(name));
  if (bot) {
    status(`Display name set to ${bot.displayName}.`);
    await renderBot();
  }
});

// ---------------------------------------------------------------- workers

async function renderWorkers() {
  const list = await guarded(() => api.workers());
  if (!list) return;
  const rows = list.items.map((w) =>
    h(
      "tr",
      { "data-worker": w.instance ?? w.id },
      h("td", {}, w.instance ?? short(w.id)),
      h("td", {}, w.version),
      h("td", { "data-field": "inFlight" }, w.stats?.inFlight ?? "—"),
      h("td", { "data-field": "handled" }, w.stats?.handled ?? "—"),
      h("td", { "data-field": "errors" }, w.stats?.errors ?? "—"),
      h(
        "td",
        {},
        Object.entries(w.stats?.plugins ?? {})
          .map(([name, p]) => `${name}: ${p.handled}/${p.errors} (${p.averageLatencyMs.toFixed(1)} ms)`)
          .join(", ") || w.plugins.join(", "),
      ),
    ),
  );
  $("#workers tbody").replaceChildren(...(rows.length ? rows : [h("tr", {}, h("td", { colspan: 6 }, "No plugin-host answered."))]));
}

// ---------------------------------------------------------------- plugins

async function renderPlugins() {
  const list = await guarded(() => api.plugins());
  if (!list) return;
  const cards = list.items.map((p) => {
    const toggle = h("input", {
      type: "checkbox",
      checked: p.enabled,
      "data-plugin-toggle": p.name,
      "aria-label": `enable ${p.name}`,
      onchange: async (event) => {
        const box = event.target;
        box.disabled = true;
        const updated = await guarded(() => api.patchPlugin(p.name, { enabled: box.checked }));
        box.disabled = false;
        if (updated) {
          status(`${p.name} ${updated.enabled ? "enabled" : "disabled"}.`);
          // Show what the server now holds.
          await renderPlugins();
        } else box.checked = !box.checked;
      },
    });
    // Without a record the workers apply their own default (PLUGIN_HOST_PLUGINS_ENABLED_BY_DEFAULT),
    // which the API cannot see: say so instead of claiming "off".
    const state = h(
      "span",
      { "data-plugin-state": p.name, title: p.updatedAt === undefined ? "no record yet: the workers' default applies" : "" },
      p.updatedAt === undefined ? "worker default" : p.enabled ? "on" : "off",
    );
    const editor = h("textarea", { rows: 4, "data-plugin-config": p.name, spellcheck: "false" });
    const schemaView = h("pre", { class: "schema", "data-plugin-schema": p.name });
    editor.value = JSON.stringify(p.config, null, 2);
    const save = h(
      "button",
      {
        type: "button",
        onclick: async () => {
          let config;
          try {
            config = JSON.parse(editor.value);
          } catch {
            status(`${p.name}: the config is not valid JSON.`, "error");
            return;
          }
          const updated = await guarded(() => api.patchPlugin(p.name, { config }));
          if (updated) status(`${p.name}: config saved.`);
        },
      },
      "Save config",
    );
    return h(
      "article",
      { class: "plugin", "data-plugin": p.name },
      h("header", {}, h("label", {}, toggle, " ", h("strong", {}, p.name)), " ", h("small", {}, p.version ?? ""), " ", state),
      h("p", {}, p.description ?? ""),
      h("p", { class: "muted" }, `commands: ${p.commands.map((c) => `/${c.name}`).join(" ") || "none"} · workers: ${p.workers}`, p.updatedBy ? ` · last change ${time(p.updatedAt)} by ${p.updatedBy}` : ""),
      h(
        "details",
        {
          ontoggle: async (event) => {
            // The config schema, fetched when the editor is first opened.
            const details = event.target;
            if (!details.open || details.dataset.loaded) return;
            details.dataset.loaded = "1";
            const manifest = await guarded(() => api.manifest(p.name));
            schemaView.textContent = manifest?.configSchema ? JSON.stringify(manifest.configSchema, null, 2) : "This plugin declares no config schema.";
          },
        },
        h("summary", {}, "Config"),
        editor,
        save,
        h("p", { class: "muted" }, "Config schema:"),
        schemaView,
      ),
    );
  });
  $("#plugins").replaceChildren(...(cards.length ? cards : [h("p", {}, "No plugin has published a manifest yet.")]));
}

// ---------------------------------------------------------------- conversations

async function renderConversations(reset) {
  if (reset) conversationCursor = null;
  const page = await guarded(() => api.conversations(conversationCursor ?? undefined));
  if (!page) return;
  const rows = page.items.map((c) =>
    h(
      "tr",
      { "data-conversation": c.conversation },
      h("td", {}, h("button", { type: "button", class: "link", onclick: () => void openMessages(c.conversation) }, short(c.conversation))),
      h("td", {}, c.displayName ?? ""),
      h("td", {}, time(c.lastMessageAt)),
      h("td", {}, `${c.inboundCount} / ${c.outboundCount}`),
      h("td", {}, c.blocked ? "yes" : "no"),
      h(
        "td",
        {},
        h(
          "button",
          {
            type: "button",
            onclick: async () => {
              const ok = await guarded(() => (c.blocked ? api.unblock(c.conversation) : api.block(c.conversation)));
              if (ok) {
                status(`${short(c.conversation)} ${c.blocked ? "unblocked" : "blocked"}.`);
                await renderConversations(true);
              }
            },
          },
          c.blocked ? "Unblock" : "Block",
        ),
      ),
    ),
  );
  const body = $("#conversations tbody");
  if (reset) body.replaceChildren(...rows);
  else body.append(...rows);
  conversationCursor = page.nextCursor;
  $("#conversations-more").hidden = page.nextCursor === null;
}
$("#conversations-more").addEventListener("click", () => void renderConversations(false));

async function openMessages(id) {
  openConversation = id;
  const page = await guarded(() => api.messages(id));
  if (!page) return;
  $("#conversation").hidden = false;
  $("#conversation-peer").textContent = id;
  $("#messages").replaceChildren(
    ...page.items.map((m) =>
      h("li", { class: m.direction, "data-message": m.id }, h("span", { class: "muted" }, `${time(m.timestamp)} ${m.direction} ${m.kind} [${m.status}]`), " ", m.text ?? ""),
    ),
  );
}

$("#send-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("#send-text");
  const ack = await guarded(() => api.send(openConversation, input.value));
  if (ack) {
    input.value = "";
    status(`Queued (${ack.id ?? "ok"}).`);
    await openMessages(openConversation);
  }
});

// ---------------------------------------------------------------- dead letters

async function renderDeadLetters() {
  const page = await guarded(() => api.deadLetters());
  if (!page) return;
  const rows = page.items.map((d) =>
    h(
      "tr",
      { "data-dead-letter": d.id },
      h("td", {}, d.id),
      h("td", {}, `${d.source.stream} ${d.source.subject}`),
      h("td", {}, `${d.reason.code}: ${d.reason.message}`),
      h("td", {}, d.deliveries),
      h("td", {}, time(d.failedAt)),
      h(
        "td",
        {},
        h(
          "button",
          {
            type: "button",
            onclick: async () => {
              const ack = await guarded(() => api.retry(d.id));
              if (ack) status(`Retried ${d.id} (${ack.id ?? "ok"}).`);
            },
          },
          "Retry",
        ),
      ),
    ),
  );
  $("#dead-letters tbody").replaceChildren(...(rows.length ? rows : [h("tr", {}, h("td", { colspan: 6 }, "No dead letters."))]));
}
