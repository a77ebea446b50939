// app.js: the console page. Logs in, follows the desk over server-sent
// events, renders the desk and account views and sends actions with the
// session's CSRF token. The server enforces every role; hiding buttons here
// is only courtesy. Data is only ever put in the page as text, never HTML.
"use strict";

// Script errors are kept where the browser tests can see them.
window.deskguardErrors = [];
window.addEventListener("error", (e) => window.deskguardErrors.push(String(e.message)));
window.addEventListener("unhandledrejection", (e) => window.deskguardErrors.push(String(e.reason)));

const S = { me: null, status: null, es: null, view: "desk", account: "", cards: new Map(), retry: null };

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
function hhmmss(t) {
  if (!t) return "";
  const d = new Date(t);
  return isNaN(d) ? String(t) : d.toISOString().slice(11, 19);
}

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
  show($("flatten-desk"), S.me.can.flatten_desk);
  show($("rearm-desk"), S.me.can.manage);
  S.cards.clear();
  $("accounts").replaceChildren();
  $("action-msg").textContent = "";
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
  renderTop(st);
  renderAccounts(st);
  renderJournal(st);
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
  $("desk-time").textContent = hhmmss(st.time);
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
  const sum = [];
  const item = (k, v, cls) => el("span", null, k + " ", el("b", { class: cls || "", text: v }));
  if (st.net !== "" && st.net != null) sum.push(item("desk net", fmtMoney(st.net), signClass(st.net)));
  if (st.equity) sum.push(item("equity", fmtMoney(st.equity)));
  if (st.desk_lockout_line) sum.push(item("desk lockout", fmtMoney(st.desk_lockout_line)));
  if (S.me && S.me.can.flatten_desk) sum.push(item("trades", String(st.trades || 0)));
  if (st.desk_locked_out) sum.push(el("span", { class: "pill link-bad", "data-field": "desk-locked-out", text: "desk locked out" }));
  $("desk-summary").replaceChildren(...sum);
  show($("press-button"), !!(S.me && S.me.can.press && pb === "sim"));
  show($("unlock-desk"), !!(S.me && S.me.can.manage && st.desk_locked_out));
}

const FIELDS = [
  ["position", "position"], ["avg", "avg price"], ["last", "last price"],
  ["unrealized", "unrealized"], ["realized", "realized"], ["net", "net PnL"],
];

function makeCard(id) {
  const c = { id };
  c.root = el("article", { class: "card", "data-account": id });
  c.state = el("span", { class: "pill", "data-field": "state" });
  c.owner = el("span", { class: "muted" });
  c.worker = el("span", { class: "muted" });
  c.head = el("div", { class: "card-head" }, el("span", { class: "id", text: id }), c.state, c.owner, c.worker);
  c.f = {};
  const grid = el("div", { class: "grid" });
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
  c.actions = el("div", { class: "actions" }, c.flatten, c.engBtn, c.unlock, c.clear);
  c.root.append(c.head, grid, c.bar, c.barLabel, c.orders, c.engines, c.actions);
  c.root.addEventListener("click", (ev) => {
    if (ev.target.closest("button")) return;
    location.hash = "#account=" + encodeURIComponent(id);
  });
  c.flatten.addEventListener("click", () => flattenAccount(id));
  c.engBtn.addEventListener("click", () => setEngines(id, !c.enginesOn));
  c.unlock.addEventListener("click", () => unlockAccount(id));
  c.clear.addEventListener("click", () => clearFault(id));
  return c;
}

function fillCard(c, a) {
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
  const last = S.status ? S.status.last_price : 0;
  c.f.last.textContent = px(last);
  c.f.unrealized.textContent = fmtMoney(a.unrealized); c.f.unrealized.className = signClass(a.unrealized);
  c.f.realized.textContent = fmtMoney(a.realized); c.f.realized.className = signClass(a.realized);
  c.f.net.textContent = fmtMoney(a.net); c.f.net.className = signClass(a.net);
  const used = Math.max(0, Math.min(1, a.drawdown_used || 0));
  c.fill.style.width = (used * 100).toFixed(1) + "%";
  c.fill.className = "fill" + (used >= 0.8 ? " bad" : used >= 0.5 ? " warn" : "");
  c.barLabel.textContent = "equity " + fmtMoney(a.equity) + " · lockout line " + fmtMoney(a.lockout_line) +
    " · " + Math.round((a.drawdown_used || 0) * 100) + "% of the allowance used";
  renderOrders(c.orders, a);
  c.enginesOn = !!a.engines_on;
  const strat = (a.strategies || []).join(", ") || "no engines";
  put(c.engines, [
    el("span", { class: "pill " + (a.engines_on ? "link-ok" : ""), text: a.engines_on ? "engines on" : "engines off" }),
    " " + strat,
    a.last_signal ? el("div", { class: "muted", text: "last signal: " + a.last_signal }) : null]);
  const can = S.me ? S.me.can : {};
  show(c.flatten, !!can.act);
  show(c.engBtn, !!can.act);
  c.engBtn.textContent = a.engines_on ? "Stop engines" : "Start engines";
  show(c.unlock, !!can.manage && a.state === "locked_out");
  show(c.clear, !!can.manage && a.state === "faulted");
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

function renderAccounts(st) {
  const box = $("accounts");
  const seen = new Set();
  for (const a of st.accounts || []) {
    seen.add(a.id);
    let c = S.cards.get(a.id);
    if (!c) { c = makeCard(a.id); S.cards.set(a.id, c); box.append(c.root); }
    fillCard(c, a);
  }
  for (const [id, c] of S.cards) if (!seen.has(id)) { c.root.remove(); S.cards.delete(id); }
}

function renderJournal(st) {
  const lines = (st.journal_tail || []).slice().reverse();
  $("journal-list").replaceChildren(...lines.map((j) =>
    el("li", { text: hhmmss(j.time) + "  #" + j.seq + "  " + j.kind + (j.account ? " [" + j.account + "]" : "") + "  " + j.text })));
}

// ---- account view ----
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
  const a = S.status && (S.status.accounts || []).find((x) => x.id === S.account);
  if (!a) return;
  if (!S.detail || S.detail.id !== a.id) {
    S.detail = makeCard(a.id);
    $("account-detail").replaceChildren(S.detail.root);
  }
  fillCard(S.detail, a);
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
  kids.push(label(hhmmss(t0 / 1e6), L, H - 8, "", "start"));
  kids.push(label(hhmmss(t1 / 1e6), W - R, H - 8));
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
  const head = ["engine", "side", "qty", "entry", "exit", "ticks", "gross", "fees", "net", "in", "out"];
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
  const r = await confirmAction("Re-arm the desk?", true);
  if (r.ok) run("Re-arm desk", () => post("/api/rearm", { reason: r.reason }));
}
async function unlockAccount(id) {
  const r = await confirmAction("Unlock account " + id + " before the session reset?", true);
  if (r.ok) run("Unlock " + id, () => post("/api/unlock", { account: id, reason: r.reason }));
}
async function unlockDesk() {
  const r = await confirmAction("Lift the desk's drawdown lockout before the session reset? Its allowance starts again from the equity now.", true);
  if (r.ok) run("Unlock desk", () => post("/api/unlock_desk", { reason: r.reason }));
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
