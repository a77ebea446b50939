// app.js: the console page. Logs in, follows the desk over server-sent
// events, renders the desk view (a strip of desk figures, one grid row per
// account sorted by risk, the journal tail, the fills blotter, rejection
// counts and kills) and the account view (a card, the equity curve, the
// unit economics), and sends actions with the session's CSRF token. Every
// time shown is in the desk's zone (status.zone) and says so. The server
// enforces every role and every state rule; what the page offers follows
// them only as a courtesy. Data is only ever put in the page as text, never
// HTML.
"use strict";

// Script errors are kept where the browser tests can see them.
window.deskguardErrors = [];
window.addEventListener("error", (e) => window.deskguardErrors.push(String(e.message)));
window.addEventListener("unhandledrejection", (e) => window.deskguardErrors.push(String(e.reason)));

const S = { me: null, status: null, es: null, view: "desk", account: "", rows: new Map(), retry: null, zone: "America/New_York", fmt: null };

function $(id) { return document.getElementById(id); }
function show(node, on) { node.classList.toggle("hidden", !on); }
function el(tag, attrs, ...kids) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") n.className = v;
    else if (k === "text") n.textContent = v;
    else if (k.startsWith("data-")) n.setAttribute(k, v);
    else n[k] = v;
  }
  for (const k of kids) if (k != null) n.append(k);
  return n;
}
function put(node, kids) { node.replaceChildren(...kids.filter((k) => k != null)); }
function svg(tag, attrs) {
  const n = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, v);
  return n;
}

// Money arrives as decimal strings ("-12.50"); sum in integer cents.
function cents(s) {
  if (s == null || s === "") return 0;
  const m = /^([+-]?)(\d+)(?:\.(\d{0,2})\d*)?$/.exec(String(s).trim());
  if (!m) return 0;
  const c = parseInt(m[2], 10) * 100 + parseInt(((m[3] || "") + "00").slice(0, 2), 10);
  return m[1] === "-" ? -c : c;
}
function money(c) {
  const neg = c < 0; c = Math.abs(c);
  const d = Math.floor(c / 100).toLocaleString("en-US");
  return (neg ? "−$" : "$") + d + "." + String(c % 100).padStart(2, "0");
}
function fmtMoney(s) { return s === "" || s == null ? "—" : money(cents(s)); }
function signClass(s) { const c = cents(s); return c > 0 ? "pos" : c < 0 ? "neg" : ""; }
function px(p) { return p ? Number(p).toFixed(2) : "—"; }
function pct(f) { return Math.round(Math.max(0, f || 0) * 100) + "%"; }

// ---- time, in the desk's zone ----
function setZone(z) {
  z = z || "America/New_York";
  if (S.fmt && S.zone === z) return;
  try {
    S.fmt = new Intl.DateTimeFormat("en-US", { timeZone: z, hour12: false, hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short" });
    S.zone = z;
  } catch (e) {
    // An unknown zone: say so rather than show another zone's time unlabelled.
    S.fmt = new Intl.DateTimeFormat("en-US", { timeZone: "UTC", hour12: false, hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short" });
    S.zone = "UTC";
  }
}
function parts(t) {
  const d = t instanceof Date ? t : new Date(t);
  if (isNaN(d)) return null;
  const o = {};
  for (const p of S.fmt.formatToParts(d)) o[p.type] = p.value;
  return o;
}
// hhmmss is a time of day in the desk's zone, without the label (tables
// carry it in their header); zoned adds it.
function hhmmss(t) {
  if (!t) return "";
  const o = parts(t);
  if (!o) return String(t);
  return (o.hour === "24" ? "00" : o.hour) + ":" + o.minute + ":" + o.second;
}
function zoneLabel(t) { const o = parts(t || new Date()); return o ? o.timeZoneName : S.zone; }
function zoned(t) { return t ? hhmmss(t) + " " + zoneLabel(t) : ""; }

async function api(path, opts) {
  opts = opts || {};
  const headers = Object.assign({}, opts.headers || {});
  if (opts.method === "POST" && S.me && S.me.csrf) headers["X-CSRF-Token"] = S.me.csrf;
  const res = await fetch(path, Object.assign({ credentials: "same-origin" }, opts, { headers }));
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  if (res.status === 401 && path !== "/api/login") { loggedOut(); }
  if (!res.ok) throw new Error((body && body.error) || res.statusText);
  return body;
}
function post(path, obj) {
  return api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(obj || {}) });
}

// ---- login and session ----
async function start() {
  setZone();
  try { S.me = await api("/api/session"); } catch (e) { S.me = null; }
  if (S.me) enter(); else loggedOut();
}
function loggedOut() {
  S.me = null;
  if (S.es) { S.es.close(); S.es = null; }
  clearTimeout(S.retry);
  show($("app"), false);
  show($("login-view"), true);
  $("login-token").focus();
}
function enter() {
  show($("login-view"), false);
  show($("app"), true);
  show($("insecure-banner"), !!S.me.insecure);
  $("who").textContent = S.me.name + " (" + S.me.role + ")";
  S.rows.clear();
  S.status = null;
  $("accounts").replaceChildren();
  $("action-msg").textContent = "";
  show($("flatten-desk"), false);
  show($("rearm-desk"), false);
  connect();
  route();
}
$("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("login-error").textContent = "";
  const token = $("login-token").value;
  try {
    S.me = await api("/api/login", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ token }) });
    $("login-token").value = "";
    enter();
  } catch (e) {
    $("login-error").textContent = "Login refused: " + e.message;
  }
});
$("logout").addEventListener("click", async () => {
  try { await post("/api/logout"); } catch (e) { /* the session is gone either way */ }
  loggedOut();
});

// ---- live status ----
function connect() {
  if (S.es) S.es.close();
  const es = new EventSource("/api/events");
  S.es = es;
  es.addEventListener("open", () => setConn("live"));
  es.addEventListener("status", (ev) => { setConn("live"); render(JSON.parse(ev.data)); });
  es.addEventListener("logout", () => loggedOut());
  es.addEventListener("error", () => {
    setConn("down");
    if (es.readyState === EventSource.CLOSED) {
      S.retry = setTimeout(async () => {
        try { S.me = await api("/api/session"); connect(); } catch (e) { /* loggedOut ran on 401 */ if (S.me) S.retry = setTimeout(connect, 3000); }
      }, 2000);
    }
  });
}
function setConn(s) {
  const c = $("conn");
  c.textContent = s === "live" ? "live" : "reconnecting";
  c.className = "pill conn " + s;
}

function render(st) {
  S.status = st;
  setZone(st.zone);
  renderTop(st);
  renderStrip(st);
  renderGrid(st);
  renderJournal(st);
  renderBlotter(st);
  renderRejections(st);
  renderKills(st);
  if (S.view === "account") renderAccountView();
}

function linkPill(name, v, okv, warnv) {
  v = v || "unknown";
  let cls = "link-bad";
  if (okv.includes(v)) cls = "link-ok";
  else if (warnv.includes(v)) cls = "link-warn";
  return el("span", { class: "pill " + cls, "data-link": name, text: name + " " + v });
}

function renderTop(st) {
  const ds = $("desk-state");
  ds.textContent = "desk " + (st.state || "?");
  ds.className = "pill state st-" + st.state;
  ds.setAttribute("data-state", st.state || "");
  $("desk-session").textContent = st.session || "";
  $("desk-last").textContent = st.last_price ? "MES " + px(st.last_price) : "";
  $("desk-time").textContent = zoned(st.time);
  const z = $("desk-zone");
  z.textContent = "times " + zoneLabel(st.time) + " (" + S.zone + ")";
  z.setAttribute("data-zone", S.zone);
  const L = st.links || {};
  const pb = L.panic_button || "unknown";
  const pbPill = pb.startsWith("offline")
    ? el("span", { class: "pill link-bad", "data-link": "panic", text: "panic button offline" + (pb.length > 7 ? " (" + pb.slice(7).replace(/^[:\s]+/, "") + ")" : "") })
    : linkPill("panic button", pb, ["ok", "sim"], []);
  $("links").replaceChildren(
    linkPill("venue", L.venue, ["up", "sim"], []),
    linkPill("data", L.data, ["up"], ["ended"]),
    linkPill("slack", L.slack, ["up"], ["off"]),
    pbPill);
  const g = st.lights || {};
  put($("lights"), [
    el("span", { class: "light green" + (g.green ? " on" : ""), title: "green light" }),
    el("span", { class: "light red" + (g.red ? " on" : "") + (g.blinking ? " blink" : ""), title: g.blinking ? "red light, blinking" : "red light" }),
    g.buzzer ? el("span", { class: "pill link-bad", text: "buzzer" }) : null]);
  show($("press-button"), !!(S.me && S.me.can.press && pb === "sim"));
  show($("unlock-desk"), !!(S.me && S.me.can.manage && st.desk_locked_out));
}

// The desk strip: contracts, money, allowance, kills; and the desk's
// actions as the desk's state allows them.
function renderStrip(st) {
  const accts = st.accounts || [];
  let net = 0, gross = 0;
  for (const a of accts) { net += a.position || 0; gross += Math.abs(a.position || 0); }
  const sum = [];
  const item = (key, k, v, cls) => el("span", { "data-strip": key }, k + " ", el("b", { class: cls || "", text: v }));
  sum.push(item("net-contracts", "net contracts", (net > 0 ? "+" : "") + net, net > 0 ? "pos" : net < 0 ? "neg" : ""));
  sum.push(item("gross-contracts", "gross", String(gross)));
  if (st.net !== "" && st.net != null) sum.push(item("desk-net", "desk net", fmtMoney(st.net), signClass(st.net)));
  if (st.equity) sum.push(item("equity", "equity", fmtMoney(st.equity)));
  if (st.desk_lockout_line) {
    const used = st.desk_drawdown_used || 0;
    sum.push(el("span", { "data-strip": "desk-allowance" }, "desk allowance used ",
      el("b", { class: used >= 0.8 ? "neg" : used >= 0.5 ? "warn" : "", text: pct(used) }),
      el("span", { class: "muted", text: " (line " + fmtMoney(st.desk_lockout_line) + ")" })));
  }
  const kills = st.kills || [];
  const lastKill = kills.length ? kills[kills.length - 1] : null;
  sum.push(el("span", { "data-strip": "kills" }, "kills today ", el("b", { class: kills.length ? "neg" : "", text: String(kills.length) }),
    lastKill ? el("span", { class: "muted", text: " (last " + hhmmss(lastKill.time) + " " + lastKill.scope + " by " + lastKill.trigger + ")" }) : null));
  if (S.me && S.me.can.flatten_desk && st.trades) sum.push(item("trades", "trades seen", String(st.trades)));
  if (st.desk_locked_out) sum.push(el("span", { class: "pill link-bad", "data-field": "desk-locked-out", text: "desk locked out" }));
  $("desk-summary").replaceChildren(...sum);

  const can = S.me ? S.me.can : {};
  const state = st.state || "";
  const stopped = state === "halting" || state === "halted";
  const fd = $("flatten-desk");
  // On a desk already halting or halted the flatten is harmless but not the
  // action that matters: it is no longer styled as the primary one.
  fd.className = stopped ? "secondary" : "danger";
  show(fd, !!can.flatten_desk);
  fd.textContent = stopped ? "Flatten desk again" : "Flatten desk";
  fd.setAttribute("data-primary", stopped ? "false" : "true");
  const anyHalted = accts.some((a) => a.state === "halted");
  const ra = $("rearm-desk");
  const rearmable = state === "halted" || (!stopped && anyHalted);
  ra.className = state === "halted" ? "primary" : "";
  show(ra, !!can.manage && rearmable);
  ra.textContent = state === "halted" ? "Re-arm desk" : "Re-arm halted accounts";
}

// ---- the grid ----
const COLS = [
  ["id", "account"], ["state", "state"], ["level", "ladder"], ["position", "pos"], ["avg", "avg"], ["last", "last"],
  ["unrealized", "unrealized"], ["net", "net"], ["equity", "equity"], ["to-lockout", "to lockout"],
  ["used", "allowance used"], ["loss-at-stop", "loss at stop"], ["equity-at-stop", "equity at stop"],
  ["trailing", "trailing line"], ["trades", "trades"], ["tier", "tier"],
  ["orders", "working"], ["cover", "stop cover"], ["worker", "worker"], ["nearest", "nearest rule"], ["actions", ""],
];

// ---- risk usage: the desk's one answer (status.accounts[].risk) ----
// nearestUsed is the nearest rule's share of its threshold used, 0..1+.
function nearestUsed(a) { return a.risk ? (a.risk.nearest_bp || 0) / 10000 : 0; }
// nearestText is the rule nearest to tripping, what is left before it
// trips and how much of it is used, as the desk's risk usage names it
// (`deskguard status` prints the same).
function nearestText(a) {
  const r = a.risk;
  if (!r || !r.nearest_rule) return "—";
  return r.nearest_rule.replace(/_/g, " ") + (r.nearest_left ? ": " + r.nearest_left : "") + " (" + pct(nearestUsed(a)) + ")";
}
// levelPill is the ladder's rung (normal, warning, reduce_only, locked_out).
function levelPill(a) {
  const lv = (a.risk && a.risk.level) || "";
  if (!lv) return document.createTextNode("—");
  const cls = lv === "normal" ? "lv-normal" : lv === "warning" ? "lv-warn" : "lv-bad";
  return el("span", { class: "pill " + cls, "data-level": lv, text: lv.replace("_", " ") });
}
// trailingText is the trailing line and what is left above it ("—": off).
function trailingText(a) {
  const r = a.risk;
  if (!r || !r.trailing_line) return { text: "—", cls: "", title: "no trailing drawdown" };
  if (r.trailing_breached) return { text: fmtMoney(r.trailing_line) + " breached", cls: "neg", title: "the trailing line is breached" };
  const left = cents(r.trailing_left);
  return { text: fmtMoney(r.trailing_line).replace(/\.00$/, "") + " · " + money(left), cls: left <= 0 ? "neg" : "",
    title: "trailing line " + fmtMoney(r.trailing_line) + ", " + money(left) + " above it" };
}
// tradesText is the flat-to-flat trades this session against the limit.
function tradesText(a) {
  const r = a.risk;
  if (!r) return "—";
  return String(r.trades_today || 0) + (r.trade_limit ? "/" + r.trade_limit : "");
}
// tierText is the scaling plan's units held and the position they allow.
function tierText(a) {
  const r = a.risk;
  if (!r || !r.tier_units) return "—";
  return r.tier_units + " (max " + (r.tier_max_position || 0) + ")";
}

// risk orders accounts: allowance used, then the nearest rule's use, then id.
function riskOrder(a, b) {
  const du = (b.drawdown_used || 0) - (a.drawdown_used || 0);
  if (Math.abs(du) > 1e-9) return du;
  const nu = nearestUsed(b) - nearestUsed(a);
  if (Math.abs(nu) > 1e-9) return nu;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
// riskLevel is "bad" (red), "warn" (amber) or "" for a row: the allowance
// or the nearest rule 80% used, the ladder at reduce-only or locked out,
// an uncovered position or a stopped account is red; 50% used, the
// ladder's warning or a halted account amber.
function riskLevel(a) {
  const used = Math.max(a.drawdown_used || 0, nearestUsed(a));
  const lv = (a.risk && a.risk.level) || "";
  const uncovered = (a.position || 0) !== 0 && !a.stop_covered;
  if (used >= 0.8 || lv === "reduce_only" || lv === "locked_out" || uncovered ||
    a.state === "locked_out" || a.state === "halting" || a.state === "faulted") return "bad";
  if (used >= 0.5 || lv === "warning" || a.state === "halted") return "warn";
  return "";
}

function makeRow(id) {
  const r = { id, c: {} };
  r.root = el("tr", { "data-account": id });
  for (const [k] of COLS) { r.c[k] = el("td", { "data-field": k }); r.root.append(r.c[k]); }
  r.idLink = el("a", { href: "#account=" + encodeURIComponent(id), class: "id", text: id });
  r.c.id.append(r.idLink);
  r.bar = el("div", { class: "bar", title: "drawdown used toward the lockout line" }, el("div", { class: "fill" }));
  r.usedText = el("span", { class: "used" });
  r.c.used.append(r.bar, r.usedText);
  r.flatten = el("button", { type: "button", class: "danger small", text: "Flatten", "data-action": "flatten" });
  r.eng = el("button", { type: "button", class: "small", "data-action": "engines" });
  r.unlock = el("button", { type: "button", class: "small", text: "Unlock", "data-action": "unlock" });
  r.clear = el("button", { type: "button", class: "small", text: "Clear fault", "data-action": "clear" });
  r.reset = el("button", { type: "button", class: "small", text: "Reset trailing", "data-action": "reset-trailing" });
  r.c.actions.append(r.flatten, r.eng, r.unlock, r.clear, r.reset);
  r.flatten.addEventListener("click", () => flattenAccount(id));
  r.eng.addEventListener("click", () => setEngines(id, !r.enginesOn));
  r.unlock.addEventListener("click", () => unlockAccount(id));
  r.clear.addEventListener("click", () => clearFault(id));
  r.reset.addEventListener("click", () => resetTrailing(id));
  return r;
}

function workingSummary(a) {
  const n = { entry: 0, stop: 0, target: 0, single: 0 };
  for (const o of a.orders || []) n[o.role in n ? o.role : "single"]++;
  const s = [];
  if (n.entry) s.push("E" + n.entry);
  if (n.stop) s.push("S" + n.stop);
  if (n.target) s.push("T" + n.target);
  if (n.single) s.push("O" + n.single);
  return s.length ? s.join(" ") : "—";
}

// actionsFor is what the page offers on an account in this desk state.
function actionsFor(a, st) {
  const can = S.me ? S.me.can : {};
  const desk = st.state || "";
  const deskStopped = desk === "halting" || desk === "halted";
  const open = (a.position || 0) !== 0 || (a.orders || []).length > 0;
  return {
    flatten: !!can.act && open,
    start: !!can.act && !a.engines_on && !deskStopped && (a.state === "idle" || a.state === "trading"),
    stop: !!can.act && !!a.engines_on,
    unlock: !!can.manage && a.state === "locked_out",
    clear: !!can.manage && a.state === "faulted",
    reset: !!can.manage && !!(a.risk && a.risk.trailing_breached),
  };
}

function fillRow(r, a, st) {
  const c = r.c;
  const level = riskLevel(a);
  r.root.className = "st-" + a.state + (level ? " risk-" + level : "");
  r.root.setAttribute("data-risk", level || "ok");
  r.root.setAttribute("data-state", a.state);
  put(c.state, [el("span", { class: "pill st-" + a.state, text: a.state.replace("_", " ") })]);
  const pos = a.position || 0;
  c.position.textContent = pos === 0 ? "flat" : (pos > 0 ? "+" : "") + pos;
  c.position.className = pos > 0 ? "pos" : pos < 0 ? "neg" : "";
  c.avg.textContent = pos === 0 ? "—" : px(a.avg_price);
  c.last.textContent = px(st.last_price);
  c.unrealized.textContent = fmtMoney(a.unrealized); c.unrealized.className = signClass(a.unrealized);
  c.net.textContent = fmtMoney(a.net); c.net.className = signClass(a.net);
  c.equity.textContent = fmtMoney(a.equity);
  const left = cents(a.equity) - cents(a.lockout_line);
  c["to-lockout"].textContent = a.lockout_line ? money(left) : "—";
  c["to-lockout"].className = level === "bad" ? "neg" : level === "warn" ? "warn" : "";
  const used = Math.max(0, Math.min(1, a.drawdown_used || 0));
  const fill = r.bar.firstChild;
  fill.style.width = (used * 100).toFixed(1) + "%";
  fill.className = "fill" + (used >= 0.8 ? " bad" : used >= 0.5 ? " warn" : "");
  r.usedText.textContent = pct(a.drawdown_used);
  c["loss-at-stop"].textContent = pos === 0 ? "—" : (a.loss_at_stop ? fmtMoney(a.loss_at_stop) : "no stop");
  c["loss-at-stop"].className = pos === 0 ? "" : a.loss_at_stop ? signClass(a.loss_at_stop) : "neg";
  c["equity-at-stop"].textContent = pos === 0 || !a.equity_at_stop ? "—" : fmtMoney(a.equity_at_stop);
  if (pos !== 0 && a.equity_at_stop && a.lockout_line && cents(a.equity_at_stop) <= cents(a.lockout_line)) {
    c["equity-at-stop"].className = "neg";
    c["equity-at-stop"].title = "a stop-out would cross the lockout line";
  } else { c["equity-at-stop"].className = ""; c["equity-at-stop"].title = ""; }
  c.orders.textContent = workingSummary(a);
  if (pos === 0) {
    c.cover.replaceChildren(document.createTextNode("—"));
  } else if (a.stop_covered) {
    c.cover.replaceChildren(el("span", { class: "covered", text: "✓ " + (a.stop_qty || Math.abs(pos)) + "/" + Math.abs(pos) }));
  } else {
    c.cover.replaceChildren(el("span", { class: "flag", "data-flag": "uncovered", text: "⚑ " + (a.stop_qty || 0) + "/" + Math.abs(pos) }));
  }
  c.worker.textContent = a.worker || "—";
  put(c.level, [levelPill(a)]);
  const tr = trailingText(a);
  c.trailing.textContent = tr.text; c.trailing.className = tr.cls; c.trailing.title = tr.title;
  c.trades.textContent = tradesText(a);
  c.tier.textContent = tierText(a);
  c.nearest.textContent = nearestText(a);
  c.nearest.title = c.nearest.textContent;
  const act = actionsFor(a, st);
  show(r.flatten, act.flatten);
  r.enginesOn = !!a.engines_on;
  show(r.eng, act.start || act.stop);
  r.eng.textContent = a.engines_on ? "Stop" : "Start";
  r.eng.title = a.engines_on ? "stop the engines" : "start the engines";
  show(r.unlock, act.unlock);
  show(r.clear, act.clear);
  show(r.reset, act.reset);
}

function renderGrid(st) {
  const head = $("grid-head");
  if (!head.firstChild) head.replaceChildren(...COLS.map(([k, label]) => el("th", { "data-col": k, text: label })));
  const box = $("accounts");
  const accts = (st.accounts || []).slice().sort(riskOrder);
  const seen = new Set();
  let i = 0;
  for (const a of accts) {
    seen.add(a.id);
    let r = S.rows.get(a.id);
    if (!r) { r = makeRow(a.id); S.rows.set(a.id, r); }
    fillRow(r, a, st);
    if (box.children[i] !== r.root) box.insertBefore(r.root, box.children[i] || null);
    i++;
  }
  for (const [id, r] of S.rows) if (!seen.has(id)) { r.root.remove(); S.rows.delete(id); }
}

function renderJournal(st) {
  const lines = (st.journal_tail || []).slice().reverse();
  $("journal-count").textContent = lines.length ? "last " + lines.length + " records, times " + zoneLabel(st.time) : "";
  $("journal-list").replaceChildren(...lines.map((j) =>
    el("li", { "data-seq": String(j.seq), "data-kind": j.kind },
      el("span", { class: "muted", text: hhmmss(j.time) + " #" + j.seq + " " }),
      el("b", { text: j.kind }), (j.account ? " [" + j.account + "]" : "") + " " + j.text)));
}

function renderBlotter(st) {
  const fills = (st.fills || []).slice().reverse();
  $("blotter-count").textContent = fills.length ? "last " + fills.length : "";
  const head = ["time " + zoneLabel(st.time), "account", "engine", "role", "side", "qty", "price", "leaves"];
  const t = [el("tr", null, ...head.map((h) => el("th", { text: h })))];
  for (const f of fills) {
    t.push(el("tr", { "data-fill": String(f.seq) },
      el("td", { text: hhmmss(f.time) }), el("td", { text: f.account }), el("td", { text: f.strategy || "" }),
      el("td", { text: f.role || "" }), el("td", { class: f.side === "buy" ? "pos" : "neg", text: f.side }),
      el("td", { text: String(f.qty) }), el("td", { text: px(f.price) }), el("td", { text: String(f.leaves || 0) })));
  }
  if (fills.length === 0) t.push(el("tr", null, el("td", { text: "no fills yet", colSpan: head.length })));
  $("blotter").replaceChildren(...t);
}

function renderRejections(st) {
  const by = new Map();
  for (const a of st.accounts || []) {
    for (const [reason, n] of Object.entries(a.rejections || {})) {
      if (!n) continue;
      let e = by.get(reason);
      if (!e) { e = { reason, n: 0, accts: [] }; by.set(reason, e); }
      e.n += n; e.accts.push(a.id + " " + n);
    }
  }
  const rows = [...by.values()].sort((a, b) => b.n - a.n || (a.reason < b.reason ? -1 : 1));
  const t = [el("tr", null, el("th", { text: "reason" }), el("th", { text: "count" }), el("th", { text: "accounts" }))];
  for (const e of rows) {
    t.push(el("tr", { "data-reason": e.reason }, el("td", { text: e.reason }), el("td", { text: String(e.n) }), el("td", { class: "muted", text: e.accts.join(", ") })));
  }
  if (rows.length === 0) t.push(el("tr", null, el("td", { text: "no rejections", colSpan: 3 })));
  $("rejections").replaceChildren(...t);
}

function renderKills(st) {
  const kills = (st.kills || []).slice().reverse();
  const t = [el("tr", null, ...["time " + zoneLabel(st.time), "scope", "trigger", "who"].map((h) => el("th", { text: h })))];
  for (const k of kills) t.push(el("tr", { "data-kill": k.scope }, el("td", { text: hhmmss(k.time) }), el("td", { text: k.scope }), el("td", { text: k.trigger }), el("td", { text: k.who })));
  if (kills.length === 0) t.push(el("tr", null, el("td", { text: "none", colSpan: 4 })));
  $("kills").replaceChildren(...t);
}

// ---- account view: a card, the curve, the economics ----
const FIELDS = [
  ["position", "position"], ["avg", "avg price"], ["last", "last price"],
  ["unrealized", "unrealized"], ["realized", "realized"], ["net", "net PnL"],
  ["loss-at-stop", "loss at stop"], ["equity-at-stop", "equity at stop"], ["nearest", "nearest rule"],
  ["level", "ladder"], ["trailing", "trailing line"], ["trades", "trades today"], ["tier", "scaling tier"],
];

function makeCard(id) {
  const c = { id };
  c.root = el("article", { class: "card", "data-card": id });
  c.state = el("span", { class: "pill", "data-field": "state" });
  c.owner = el("span", { class: "muted" });
  c.worker = el("span", { class: "muted" });
  c.head = el("div", { class: "card-head" }, el("span", { class: "id", text: id }), c.state, c.owner, c.worker);
  c.f = {};
  const grid = el("div", { class: "fields" });
  for (const [k, label] of FIELDS) {
    c.f[k] = el("b", { "data-field": k });
    grid.append(el("div", null, el("span", { text: label }), c.f[k]));
  }
  c.fill = el("div", { class: "fill" });
  c.bar = el("div", { class: "bar", title: "drawdown used toward the lockout line" }, c.fill);
  c.barLabel = el("div", { class: "bar-label", "data-field": "drawdown" });
  c.orders = el("div", { class: "orders", "data-field": "orders" });
  c.engines = el("div", { class: "engines", "data-field": "engines" });
  c.flatten = el("button", { type: "button", class: "danger", text: "Flatten account", "data-action": "flatten" });
  c.engBtn = el("button", { type: "button", "data-action": "engines" });
  c.unlock = el("button", { type: "button", text: "Unlock account", "data-action": "unlock" });
  c.clear = el("button", { type: "button", text: "Clear fault", "data-action": "clear" });
  c.reset = el("button", { type: "button", text: "Reset trailing line", "data-action": "reset-trailing" });
  c.actions = el("div", { class: "actions" }, c.flatten, c.engBtn, c.unlock, c.clear, c.reset);
  c.root.append(c.head, grid, c.bar, c.barLabel, c.orders, c.engines, c.actions);
  c.flatten.addEventListener("click", () => flattenAccount(id));
  c.engBtn.addEventListener("click", () => setEngines(id, !c.enginesOn));
  c.unlock.addEventListener("click", () => unlockAccount(id));
  c.clear.addEventListener("click", () => clearFault(id));
  c.reset.addEventListener("click", () => resetTrailing(id));
  return c;
}

function fillCard(c, a, st) {
  c.root.className = "card st-" + a.state;
  c.root.setAttribute("data-state", a.state);
  c.state.textContent = a.state.replace("_", " ");
  c.state.className = "pill st-" + a.state;
  c.owner.textContent = a.owner ? "· " + a.owner : "";
  c.worker.textContent = a.worker ? "· worker " + a.worker : "";
  const pos = a.position || 0;
  c.f.position.textContent = pos === 0 ? "flat" : (pos > 0 ? "+" : "") + pos;
  c.f.position.className = pos > 0 ? "pos" : pos < 0 ? "neg" : "";
  c.f.avg.textContent = pos === 0 ? "—" : px(a.avg_price);
  c.f.last.textContent = px(st.last_price);
  c.f.unrealized.textContent = fmtMoney(a.unrealized); c.f.unrealized.className = signClass(a.unrealized);
  c.f.realized.textContent = fmtMoney(a.realized); c.f.realized.className = signClass(a.realized);
  c.f.net.textContent = fmtMoney(a.net); c.f.net.className = signClass(a.net);
  c.f["loss-at-stop"].textContent = pos === 0 ? "—" : a.loss_at_stop ? fmtMoney(a.loss_at_stop) : "no stop";
  c.f["equity-at-stop"].textContent = pos === 0 || !a.equity_at_stop ? "—" : fmtMoney(a.equity_at_stop);
  c.f.nearest.textContent = nearestText(a);
  put(c.f.level, [levelPill(a)]);
  const tr = trailingText(a);
  c.f.trailing.textContent = tr.text; c.f.trailing.className = tr.cls;
  c.f.trades.textContent = tradesText(a);
  c.f.tier.textContent = tierText(a);
  const used = Math.max(0, Math.min(1, a.drawdown_used || 0));
  c.fill.style.width = (used * 100).toFixed(1) + "%";
  c.fill.className = "fill" + (used >= 0.8 ? " bad" : used >= 0.5 ? " warn" : "");
  c.barLabel.textContent = "equity " + fmtMoney(a.equity) + " · lockout line " + fmtMoney(a.lockout_line) +
    " · " + money(cents(a.equity) - cents(a.lockout_line)) + " to the line · " + pct(a.drawdown_used) + " of the allowance used";
  renderOrders(c.orders, a);
  c.enginesOn = !!a.engines_on;
  const strat = (a.strategies || []).join(", ") || "no engines";
  put(c.engines, [
    el("span", { class: "pill " + (a.engines_on ? "link-ok" : ""), text: a.engines_on ? "engines on" : "engines off" }),
    " " + strat,
    a.last_signal ? el("div", { class: "muted", text: "last signal: " + a.last_signal }) : null]);
  const act = actionsFor(a, st);
  show(c.flatten, act.flatten);
  show(c.engBtn, act.start || act.stop);
  c.engBtn.textContent = a.engines_on ? "Stop engines" : "Start engines";
  show(c.unlock, act.unlock);
  show(c.clear, act.clear);
  show(c.reset, act.reset);
}

function renderOrders(box, a) {
  const orders = a.orders || [];
  const kids = [];
  if (a.position !== 0 && !a.stop_covered) {
    kids.push(el("div", null, el("span", { class: "flag", "data-flag": "uncovered", text: "⚑ STOP NOT COVERING POSITION" })));
  } else if (a.position !== 0) {
    kids.push(el("div", { class: "covered", text: "✓ stop covers the position" }));
  }
  if (orders.length === 0) {
    kids.push(el("div", { class: "muted", text: "no working orders" }));
  } else {
    const t = el("table", null, el("tr", null, ...["role", "side", "qty", "type", "price", "status", "engine"].map((h) => el("th", { text: h }))));
    for (const o of orders) {
      t.append(el("tr", { "data-role": o.role },
        el("td", { text: o.role }), el("td", { text: o.side }), el("td", { text: o.filled ? o.filled + "/" + o.qty : String(o.qty) }),
        el("td", { text: o.type }), el("td", { text: px(o.price) }), el("td", { text: o.status }), el("td", { text: o.strategy || "" })));
    }
    kids.push(t);
  }
  box.replaceChildren(...kids);
}

function route() {
  const m = /^#account=(.+)$/.exec(location.hash);
  S.view = m ? "account" : "desk";
  S.account = m ? decodeURIComponent(m[1]) : "";
  show($("desk-view"), S.view === "desk");
  show($("account-view"), S.view === "account");
  S.detail = null;
  $("account-detail").replaceChildren();
  if (S.view === "account") renderAccountView();
}
window.addEventListener("hashchange", route);
$("back").addEventListener("click", () => { location.hash = ""; });

function renderAccountView() {
  const st = S.status;
  const a = st && (st.accounts || []).find((x) => x.id === S.account);
  if (!a) return;
  if (!S.detail || S.detail.id !== a.id) {
    S.detail = makeCard(a.id);
    $("account-detail").replaceChildren(S.detail.root);
  }
  fillCard(S.detail, a, st);
  drawEquity(a);
  renderEconomics(a.trades || []);
  renderTrips(a.trades || []);
}

function drawEquity(a) {
  const chart = $("equity-chart");
  const W = Math.max(300, Math.round(chart.clientWidth || 1000)), H = Math.max(200, Math.round(chart.clientHeight || 320));
  const L = 120, R = 12, T = 12, B = 30;
  chart.setAttribute("viewBox", "0 0 " + W + " " + H);
  const pts = (a.equity_curve || []).map((p) => [p.t, cents(p.equity) / 100]);
  const lock = cents(a.lockout_line) / 100, start = cents(a.start_equity) / 100;
  const kids = [];
  if (pts.length === 0) {
    const t = svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }); t.textContent = "no equity samples yet";
    chart.replaceChildren(t); return;
  }
  let lo = Math.min(lock, ...pts.map((p) => p[1])), hi = Math.max(start, ...pts.map((p) => p[1]));
  if (hi - lo < 1) { hi += 1; lo -= 1; }
  const pad = (hi - lo) * 0.08; lo -= pad; hi += pad;
  const t0 = pts[0][0], t1 = Math.max(pts[pts.length - 1][0], t0 + 1);
  const x = (t) => L + (W - L - R) * (t - t0) / (t1 - t0);
  const y = (v) => T + (H - T - B) * (hi - v) / (hi - lo);
  const label = (txt, xx, yy, cls, anchor) => { const n = svg("text", { x: xx, y: yy, class: cls || "", "text-anchor": anchor || "end" }); n.textContent = txt; return n; };
  kids.push(svg("line", { class: "start", x1: L, x2: W - R, y1: y(start), y2: y(start) }));
  kids.push(label(money(Math.round(start * 100)), L - 4, y(start) + 5));
  kids.push(svg("line", { class: "lockout", "data-line": "lockout", x1: L, x2: W - R, y1: y(lock), y2: y(lock) }));
  kids.push(label("lockout " + money(Math.round(lock * 100)), W - R - 4, y(lock) - 6, "lockout-label"));
  kids.push(svg("polyline", { class: "curve", points: pts.map((p) => x(p[0]).toFixed(1) + "," + y(p[1]).toFixed(1)).join(" ") }));
  kids.push(label(zoned(t0 / 1e6), L, H - 8, "", "start"));
  kids.push(label(zoned(t1 / 1e6), W - R, H - 8));
  chart.replaceChildren(...kids);
}

function economics(trips) {
  const by = new Map();
  const add = (k, r) => {
    let e = by.get(k);
    if (!e) { e = { name: k, n: 0, wins: 0, losses: 0, winTicks: 0, lossTicks: 0, gross: 0, fees: 0 }; by.set(k, e); }
    e.n++; e.gross += cents(r.pnl); e.fees += cents(r.fees);
    if (r.ticks > 0) { e.wins++; e.winTicks += r.ticks; } else if (r.ticks < 0) { e.losses++; e.lossTicks += r.ticks; }
  };
  for (const r of trips) { add(r.strategy || "—", r); add("all", r); }
  const rows = [...by.values()].filter((e) => e.name !== "all");
  if (by.has("all")) rows.push(by.get("all"));
  return rows;
}

function renderEconomics(trips) {
  const head = ["engine", "trades", "win rate", "avg win (ticks)", "avg loss (ticks)", "gross", "fees", "net"];
  const t = [el("tr", null, ...head.map((h) => el("th", { text: h })))];
  for (const e of economics(trips)) {
    t.push(el("tr", { "data-strategy": e.name },
      el("td", { text: e.name }), el("td", { text: String(e.n) }),
      el("td", { text: e.n ? (100 * e.wins / e.n).toFixed(1) + "%" : "—" }),
      el("td", { text: e.wins ? (e.winTicks / e.wins).toFixed(1) : "—" }),
      el("td", { text: e.losses ? (e.lossTicks / e.losses).toFixed(1) : "—" }),
      el("td", { text: money(e.gross) }), el("td", { text: money(e.fees) }),
      el("td", { class: e.gross - e.fees >= 0 ? "pos" : "neg", text: money(e.gross - e.fees) })));
  }
  if (trips.length === 0) t.push(el("tr", null, el("td", { text: "no round trips yet", colSpan: 8 })));
  $("economics").replaceChildren(...t);
}

function renderTrips(trips) {
  const z = zoneLabel(S.status && S.status.time);
  const head = ["engine", "side", "qty", "entry", "exit", "ticks", "gross", "fees", "net", "in " + z, "out " + z];
  const t = [el("tr", null, ...head.map((h) => el("th", { text: h })))];
  for (const r of trips) {
    const net = cents(r.pnl) - cents(r.fees);
    t.push(el("tr", null,
      el("td", { text: r.strategy }), el("td", { text: r.side }), el("td", { text: String(r.qty) }),
      el("td", { text: px(r.entry) }), el("td", { text: px(r.exit) }),
      el("td", { class: r.ticks > 0 ? "pos" : r.ticks < 0 ? "neg" : "", text: (r.ticks > 0 ? "+" : "") + r.ticks }),
      el("td", { text: fmtMoney(r.pnl) }), el("td", { text: fmtMoney(r.fees) }),
      el("td", { class: net >= 0 ? "pos" : "neg", text: money(net) }),
      el("td", { text: hhmmss(r.entry_time) }), el("td", { text: hhmmss(r.exit_time) })));
  }
  $("trips").replaceChildren(...t);
}

// ---- actions ----
function confirmAction(text, needReason) {
  const d = $("confirm-dialog");
  $("confirm-text").textContent = text;
  $("confirm-error").textContent = "";
  show($("reason-row"), needReason);
  $("reason-input").value = "";
  return new Promise((resolve) => {
    const done = (v) => { $("confirm-ok").onclick = null; $("confirm-cancel").onclick = null; d.onclose = null; if (d.open) d.close(); resolve(v); };
    $("confirm-ok").onclick = () => {
      const reason = $("reason-input").value.trim();
      if (needReason && !reason) { $("confirm-error").textContent = "A reason is required."; return; }
      done({ ok: true, reason });
    };
    $("confirm-cancel").onclick = () => done({ ok: false });
    d.onclose = () => done({ ok: false });
    d.showModal();
    if (needReason) $("reason-input").focus(); else $("confirm-cancel").focus();
  });
}
async function run(label, fn) {
  const msg = $("action-msg");
  msg.textContent = label + "…";
  try { await fn(); msg.textContent = label + ": done"; } catch (e) { msg.textContent = label + " refused: " + e.message; }
}
async function flattenDesk() {
  const r = await confirmAction("Flatten the whole desk? Every account is halted and liquidated.", false);
  if (r.ok) run("Flatten desk", () => post("/api/flatten", { account: "" }));
}
async function flattenAccount(id) {
  const r = await confirmAction("Flatten account " + id + "? Its orders are cancelled and its position closed.", false);
  if (r.ok) run("Flatten " + id, () => post("/api/flatten", { account: id }));
}
async function rearmDesk() {
  const halted = S.status && S.status.state === "halted";
  const r = await confirmAction(halted ? "Re-arm the desk?" : "Re-arm the halted accounts?", true);
  if (r.ok) run("Re-arm", () => post("/api/rearm", { reason: r.reason }));
}
async function unlockAccount(id) {
  const r = await confirmAction("Unlock account " + id + " before the session reset?", true);
  if (r.ok) run("Unlock " + id, () => post("/api/unlock", { account: id, reason: r.reason }));
}
async function unlockDesk() {
  const r = await confirmAction("Lift the desk's drawdown lockout before the session reset? Its allowance starts again from the equity now.", true);
  if (r.ok) run("Unlock desk", () => post("/api/unlock_desk", { reason: r.reason }));
}
async function resetTrailing(id) {
  const r = await confirmAction("Reset the breached trailing line of account " + id + "? The line starts again below its equity now; locked out by it alone, it trades again.", true);
  if (r.ok) run("Reset trailing " + id, () => post("/api/reset_trailing", { account: id, reason: r.reason }));
}
async function clearFault(id) {
  const r = await confirmAction("Clear the fault of account " + id + "? The desk checks its position and stops at the venue first; it trades again.", true);
  if (r.ok) run("Clear fault " + id, () => post("/api/clear", { account: id, reason: r.reason }));
}
function setEngines(id, on) {
  run((on ? "Start" : "Stop") + " engines of " + id, () => post("/api/engines", { account: id, run: on }));
}
async function press() {
  const r = await confirmAction("Press the simulated panic button? It flattens the desk.", false);
  if (r.ok) run("Panic button", () => post("/api/press"));
}
$("flatten-desk").addEventListener("click", flattenDesk);
$("rearm-desk").addEventListener("click", rearmDesk);
$("unlock-desk").addEventListener("click", unlockDesk);
$("press-button").addEventListener("click", press);

start();
