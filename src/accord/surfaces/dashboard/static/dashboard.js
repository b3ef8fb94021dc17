// accord dashboard: live panels over server-sent events, countdowns, token-guarded actions.
// The server renders (and escapes) every piece of HTML; this script only places it.
"use strict";

(function () {
  const KEY = "accord-dashboard-token";
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  // --- the token: from the link's #token=..., kept for this tab only --------------------
  const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromLink) {
    sessionStorage.setItem(KEY, fromLink);
    history.replaceState(null, "", location.pathname + location.search);
  }
  const token = () => sessionStorage.getItem(KEY);

  function showMode() {
    const mode = $("[data-mode]");
    const auth = $("[data-auth]");
    const can = Boolean(token());
    mode.textContent = can ? "can act" : "read-only";
    mode.classList.toggle("on", can);
    if (auth) auth.classList.toggle("has-token", can);
  }

  // --- placing what the server sent --------------------------------------------------------
  function stamp(root) {
    const now = performance.now();
    $$("[data-expires-in]", root).forEach((el) => (el.dataset.t0 = now));
  }

  function place(panels) {
    Object.entries(panels).forEach(([id, html]) => {
      const body = $(`[data-panel="${id}"]`);
      if (!body) return;
      body.innerHTML = html;
      stamp(body);
      bindActions(body); // its forms are new elements (a lock row's buttons, too)
    });
    showMode();
  }

  function prepend(target, rows, keep) {
    const list = document.getElementById(target);
    if (!list) return;
    $$(".empty", list).forEach((el) => el.remove());
    rows.slice().reverse().forEach((html) => {
      list.insertAdjacentHTML("afterbegin", html);
      list.firstElementChild.classList.add("fresh");
    });
    while (list.children.length > keep) list.lastElementChild.remove();
  }

  function banner(error) {
    const el = $("[data-banner]");
    el.textContent = error ? `The store does not answer: ${error}` : "";
    el.hidden = !error;
  }

  function live(state, text) {
    const el = $("[data-live]");
    el.textContent = text;
    el.className = `badge live ${state}`;
  }

  function connect() {
    const source = new EventSource("/api/stream");
    source.addEventListener("open", () => live("on", "live"));
    source.addEventListener("error", () => live("off", "reconnecting"));
    source.addEventListener("panels", (e) => {
      const msg = JSON.parse(e.data);
      place(msg.panels);
      banner(msg.error);
      live(msg.error ? "off" : "on", msg.error ? "store down" : "live");
    });
    source.addEventListener("rows", (e) => {
      const msg = JSON.parse(e.data);
      prepend(msg.target, msg.html, msg.keep);
    });
  }

  // --- countdowns: time left runs down in the page between listings -------------------------
  function tick() {
    const now = performance.now();
    $$("[data-expires-in]").forEach((el) => {
      const left = Math.max(0, el.dataset.expiresIn - (now - (el.dataset.t0 || now)) / 1000);
      const total = Number(el.dataset.ttl) || 0;
      const secs = $(".secs", el);
      if (secs) secs.textContent = left > 0 ? `${left.toFixed(1)} s` : "expired";
      const bar = $(".bar-fg", el);
      if (bar && total > 0) bar.setAttribute("width", ((100 * left) / total).toFixed(1));
      el.classList.toggle("low", left < 5);
    });
  }

  // --- actions: POST with the token; read-only without it -------------------------------------
  async function act(name, args, out) {
    const headers = { "Content-Type": "application/json" };
    if (token()) headers.Authorization = `Bearer ${token()}`;
    out.className = "";
    out.textContent = "…";
    try {
      const reply = await fetch(`/api/actions/${name}`, {
        method: "POST", headers, body: JSON.stringify(args), cache: "no-store",
      });
      const body = await reply.json();
      out.className = body.ok ? "ok" : "refused";
      out.textContent = body.ok ? `done${name === "emit" && body.id ? `: event ${body.id}` : ""}` : `refused: ${body.error}`;
    } catch (err) {
      out.className = "refused";
      out.textContent = `failed: ${err}`;
    }
  }

  function bindActions(root) {
    const tokenForm = $("[data-token-form]", root);
    if (tokenForm) {
      tokenForm.addEventListener("submit", (e) => {
        e.preventDefault();
        const value = tokenForm.elements.token.value.trim();
        if (value) sessionStorage.setItem(KEY, value);
        tokenForm.reset();
        showMode();
      });
    }
    const forget = $("[data-forget]", root);
    if (forget) {
      forget.addEventListener("click", () => {
        sessionStorage.removeItem(KEY);
        showMode();
      });
    }
    // Any form[data-action=NAME] posts its named fields to /api/actions/NAME; a field
    // named "data" is sent as the JSON it holds. A new action needs only its form.
    $$("form[data-action]", root).forEach((form) => {
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        const out = $("output", form);
        const args = {};
        for (const [key, value] of new FormData(form).entries()) {
          args[key] = typeof value === "string" ? value.trim() : value;
        }
        if ("data" in args) {
          try {
            args.data = args.data ? JSON.parse(args.data) : null;
          } catch (err) {
            out.className = "refused";
            out.textContent = "the payload is not JSON";
            return;
          }
        }
        act(form.dataset.action, args, out);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    stamp(document);
    bindActions(document);
    showMode();
    connect();
    setInterval(tick, 200);
  });
})();
