/* consent.js: Rightful's cookie banner. A plain script with no dependencies; see
   docs/consent-banner.md. Install on the company's own site with
     <script async src="https://privacy.example.com/consent.js" data-jurisdiction="US-CA"></script>
   Scripts, pixels and frames written as type="text/plain" / data-src with data-category="..."
   only start once their category is allowed.
   Over 400 lines on purpose: one file and no build step, so the banner's CSS lives here too. */
(() => {
  "use strict";
  if (window.RightfulConsent) return; // loaded twice: the first copy owns the page
  const me = document.currentScript || document.querySelector('script[src*="/consent.js"]');
  if (!me) return;
  const origin = new URL(me.src, location.href).origin;
  const asked = me.dataset.jurisdiction || "";
  // The banner speaks the page's language: data-lang, else <html lang>, else the browser's.
  const lang = me.dataset.lang || document.documentElement.lang || navigator.language || "";
  const cookieDomain = me.dataset.cookieDomain || "";
  const ID = "rf_consent_id";
  const STORE = "rf_consent";
  const MAX_AGE = 180 * 86400; // ask again after six months
  const gpc = navigator.globalPrivacyControl === true;
  const GPC_LOCKED = ["targeting", "sale_share"];
  const ran = new Set(); // categories whose scripts this page has already started
  let config = null;
  // What this browser chose: {v: notice version, j: jurisdiction, c: {category: bool},
  // g: GPC signal recorded, s: choice recorded}.
  let saved = readSaved();
  let host = null;
  let lastFocus = null;
  let openWhenReady = false;
  let markReady = null;
  const ready = new Promise((resolve) => (markReady = resolve));

  // --- cookies on the company's site -------------------------------------------------------

  function cookieJar() {
    const jar = {};
    for (const part of document.cookie.split(";")) {
      const i = part.indexOf("=");
      if (i > 0) jar[part.slice(0, i).trim()] = part.slice(i + 1).trim();
    }
    return jar;
  }

  function setCookie(name, value, maxAge) {
    let text = `${name}=${encodeURIComponent(value)}; Path=/; Max-Age=${maxAge}; SameSite=Lax`;
    if (cookieDomain) text += `; Domain=${cookieDomain}`;
    if (location.protocol === "https:") text += "; Secure";
    document.cookie = text;
  }

  function readSaved() {
    try {
      return JSON.parse(decodeURIComponent(cookieJar()[STORE] || "")) || null;
    } catch (_) {
      return null;
    }
  }

  function save(next) {
    saved = next;
    setCookie(STORE, JSON.stringify(next), MAX_AGE);
  }

  function deviceId() {
    let id = cookieJar()[ID] || "";
    if (!/^[A-Za-z0-9_-]{16,64}$/.test(id)) {
      const bytes = crypto.getRandomValues(new Uint8Array(16));
      id = btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_");
      id = id.replace(/=+$/, "");
    }
    setCookie(ID, id, MAX_AGE);
    return id;
  }

  // A cookie is removed only with the domain and path it was set with, which a page cannot
  // read: try this host, each parent domain, and each directory of the current path.
  function removeCookies(patterns) {
    const matches = (name) =>
      patterns.some((p) => (p.endsWith("*") ? name.startsWith(p.slice(0, -1)) : name === p));
    const names = Object.keys(cookieJar()).filter(matches);
    if (!names.length) return;
    const labels = location.hostname.split(".");
    const domains = [""];
    if (!/^[\d.]+$|:/.test(location.hostname)) {
      for (let i = 0; i < labels.length - 1; i++) {
        domains.push(`; Domain=.${labels.slice(i).join(".")}`);
      }
    }
    const dirs = location.pathname.split("/").filter(Boolean);
    const paths = ["/", ...dirs.map((_, i) => `/${dirs.slice(0, i + 1).join("/")}`)];
    const secure = location.protocol === "https:" ? "; Secure" : "";
    for (const name of names) {
      for (const domain of domains) {
        for (const path of paths) {
          document.cookie = `${name}=; Path=${path}; Max-Age=0${domain}${secure}`;
        }
      }
    }
  }

  // --- what may run ---------------------------------------------------------------------

  function allowedNow() {
    const allowed = { strictly_necessary: true };
    for (const c of config ? config.categories : []) allowed[c.key] = c.required || c.default;
    if (config && config.sale_share) allowed.sale_share = config.sale_share.default;
    Object.assign(allowed, (saved && saved.c) || {});
    if (gpc) for (const key of GPC_LOCKED) allowed[key] = false;
    return allowed;
  }

  function categoryOf(el) {
    return (el.dataset.category || "").replace(/^cookies\./, "");
  }

  function activate(allowed) {
    for (const el of document.querySelectorAll("[data-category]")) {
      const category = categoryOf(el);
      if (!allowed[category]) continue;
      if (el.tagName === "SCRIPT" && el.getAttribute("type") === "text/plain") {
        const script = document.createElement("script");
        for (const a of el.attributes) if (a.name !== "type") script.setAttribute(a.name, a.value);
        if (el.dataset.type) script.type = el.dataset.type;
        if (el.dataset.src) script.src = el.dataset.src;
        script.nonce = el.nonce; // a strict-CSP host's nonce is hidden from attributes
        script.async = false; // keep the page's order among activated scripts
        script.text = el.text;
        el.replaceWith(script);
        ran.add(category);
      } else if (el.dataset.src && !el.getAttribute("src")) {
        el.setAttribute("src", el.dataset.src);
        ran.add(category);
      }
    }
  }

  function removeWithdrawn(allowed) {
    const patterns = [];
    for (const c of config.categories) if (!allowed[c.key]) patterns.push(...c.cookies);
    removeCookies(patterns);
  }

  function showStatus() {
    if (!gpc || !config) return;
    for (const el of document.querySelectorAll("[data-rightful-gpc]")) {
      el.textContent = config.texts.gpc_honored;
      if (config.lang) el.lang = config.lang;
      el.hidden = false;
    }
  }

  // --- talking to Rightful --------------------------------------------------------------

  // text/plain keeps the POST a "simple" cross-origin request: no preflight round trip, and
  // keepalive lets it finish while the page unloads. Rightful reads the body as JSON.
  function event(choices, action) {
    return {
      device_id: deviceId(),
      jurisdiction: config.jurisdiction,
      notice_version: config.notice_version,
      choices,
      gpc,
      action,
      lang: config.lang, // kept as proof of what the visitor read
    };
  }

  // One event, or several as {events: [...]} in one request (recorded all or nothing).
  function send(choices, action) {
    return post(event(choices, action));
  }

  function post(body) {
    return fetch(`${origin}/consent/events`, {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      keepalive: true,
      headers: { "Content-Type": "text/plain;charset=UTF-8" },
      body: JSON.stringify(body),
    }).then(
      (answer) => {
        if (answer.status === 409) {
          save({});
          load(true); // the notice changed meanwhile: ask again under the new one
        }
        return answer.ok;
      },
      () => false,
    );
  }

  function choose(action, picked) {
    const all = { accept_all: true, reject_all: false }[action];
    const choices = {};
    for (const c of switches()) {
      if (c.required || (gpc && GPC_LOCKED.includes(c.key))) continue;
      choices[c.key] = all === undefined ? !!picked[c.key] : all;
    }
    save({ v: config.notice_version, j: config.jurisdiction, c: choices, g: saved && saved.g });
    const allowed = allowedNow();
    const stopped = [...ran].some((key) => !allowed[key]);
    removeWithdrawn(allowed);
    close();
    activate(allowed);
    document.dispatchEvent(new CustomEvent("rightful:consent", { detail: allowed }));
    send(choices, action).then((ok) => {
      if (ok && saved && saved.c === choices) save({ ...saved, g: gpc || saved.g, s: 1 });
      // Scripts already running cannot be stopped; a reload leaves them out.
      if (stopped) location.reload();
    });
  }

  function load(fresh) {
    const query = new URLSearchParams();
    if (asked) query.set("jurisdiction", asked);
    if (lang) query.set("lang", lang);
    const cache = fresh ? "no-cache" : "default"; // past the HTTP cache's copy of the old notice
    fetch(`${origin}/consent/config.json?${query}`, { credentials: "omit", cache })
      .then((answer) => (answer.ok ? answer.json() : Promise.reject(answer.status)))
      .then((loaded) => {
        config = loaded;
        whenReady(start);
      })
      // Without its configuration the banner stays away and nothing optional starts.
      .catch(() => markReady(allowedNow()));
  }

  function start() {
    const allowed = allowedNow();
    activate(allowed);
    removeWithdrawn(allowed);
    showStatus();
    const current = saved && saved.v === config.notice_version && saved.j === config.jurisdiction;
    // A choice whose sending failed last time, and a GPC signal not yet recorded: one request.
    const due = {};
    if (current && saved.c && !saved.s) due.s = event(saved.c, "save");
    if (gpc && !(saved && saved.g)) due.g = event({}, "gpc");
    const marks = Object.keys(due);
    if (marks.length) {
      const body = marks.length > 1 ? { events: Object.values(due) } : due[marks[0]];
      post(body).then((ok) => {
        if (!ok) return;
        const next = { ...(saved || {}) };
        for (const mark of marks) next[mark] = 1;
        save(next);
      });
    }
    if (!current || !saved.c || openWhenReady) show(openWhenReady);
    markReady(allowed);
  }

  // --- the banner -----------------------------------------------------------------------

  function switches() {
    const list = [...config.categories];
    if (config.sale_share && !gpc) list.push(config.sale_share);
    return list;
  }

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === false || value == null) continue;
      if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
      else el.setAttribute(name, value === true ? "" : value);
    }
    el.append(...children.filter((c) => c != null && c !== false));
    return el;
  }

  function row(c, allowed) {
    const t = config.texts;
    const id = `rc-${c.key}`;
    const locked = c.required || (gpc && GPC_LOCKED.includes(c.key));
    const note = c.required ? t.always_on : locked ? t.gpc_locked : null;
    const cookies = c.cookies && c.cookies.length ? `${t.cookies}: ${c.cookies.join(", ")}` : null;
    return h(
      "div",
      { class: "row" },
      h(
        "div",
        null,
        h("label", { for: id }, c.title),
        h(
          "p",
          { id: `${id}-about` },
          c.description,
          note && h("span", { class: "note" }, ` ${note}.`),
          cookies && h("span", { class: "cookies" }, cookies),
        ),
      ),
      h("input", {
        type: "checkbox",
        role: "switch",
        id,
        name: c.key,
        checked: !!allowed[c.key],
        disabled: locked,
        "aria-describedby": `${id}-about`,
      }),
    );
  }

  function show(focus, opener) {
    if (!config || !document.body) {
      openWhenReady = true;
      return;
    }
    openWhenReady = false;
    close();
    const t = config.texts;
    const allowed = allowedNow();
    const button = (label, action) =>
      h("button", { type: "button", class: "btn", onclick: () => choose(action, {}) }, label);
    const panel = h(
      "div",
      { class: "panel", id: "rc-panel", hidden: true },
      h(
        "fieldset",
        null,
        h("legend", null, t.categories),
        ...switches().map((c) => row(c, allowed)),
      ),
      h(
        "button",
        {
          type: "button",
          class: "btn alt",
          onclick: () => {
            const picked = {};
            for (const input of panel.querySelectorAll("input")) picked[input.name] = input.checked;
            choose("save", picked);
          },
        },
        t.save,
      ),
    );
    const toggle = h(
      "button",
      {
        type: "button",
        class: "btn alt",
        "aria-expanded": "false",
        "aria-controls": "rc-panel",
        onclick: () => {
          const opening = panel.hidden;
          panel.hidden = !opening;
          toggle.setAttribute("aria-expanded", String(opening));
          if (opening) panel.querySelector("input:not([disabled])")?.focus();
        },
      },
      t.choose,
    );
    const gpcNote =
      gpc &&
      h(
        "p",
        { class: "gpc", role: "status" },
        h("strong", null, t.gpc_honored),
        ` ${t.gpc_detail}`,
      );
    // Once a choice exists the banner may simply be closed again (the choice stands).
    const closer =
      saved &&
      saved.c &&
      h(
        "button",
        { type: "button", class: "x", "aria-label": t.close, onclick: () => close(true) },
        "×",
      );
    const dialog = h(
      "div",
      {
        class: "rc",
        role: "region",
        lang: config.lang,
        "aria-labelledby": "rc-title",
        tabindex: "-1",
        onkeydown: (e) => e.key === "Escape" && saved && saved.c && close(true),
      },
      h(
        "div",
        { class: "main" },
        h(
          "div",
          { class: "text" },
          closer,
          h("h2", { id: "rc-title" }, t.title),
          h("p", null, `${t.body} `, h("a", { href: config.privacy_center }, t.privacy_center)),
          gpcNote,
        ),
        h(
          "div",
          { class: "actions" },
          button(t.reject_all, "reject_all"),
          button(t.accept_all, "accept_all"),
          toggle,
        ),
      ),
      panel,
    );
    host = document.createElement("rightful-consent");
    if (config.lang) host.lang = config.lang; // read aloud in the banner's own language
    const root = host.attachShadow({ mode: "open" });
    style(root);
    root.append(dialog);
    document.body.prepend(host); // first in the reading and tab order, shown at the bottom
    if (focus) {
      lastFocus = opener || document.activeElement; // where focus returns when the banner closes
      dialog.focus();
    }
  }

  function close(restoreFocus) {
    if (!host) return;
    const hadFocus = host.shadowRoot.activeElement != null;
    host.remove();
    host = null;
    if ((restoreFocus || hadFocus) && lastFocus && lastFocus.isConnected) lastFocus.focus();
    lastFocus = null;
  }

  // Constructed style sheets keep the banner's look apart from the host page's CSS (and work
  // under a strict style-src); a <style> element is the fallback for older browsers.
  function style(root) {
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (_) {
      root.append(h("style", null, CSS));
    }
  }

  const ACCENT = "var(--rightful-accent,#1d4ed8)";
  const CSS = `:host{all:initial}
.rc{position:fixed;z-index:2147483646;left:16px;right:16px;bottom:16px;max-width:1040px;
margin:0 auto;max-height:calc(100vh - 32px);overflow:auto;box-sizing:border-box;background:#fff;
color:#1b2430;border:1px solid #d5dbe3;border-radius:12px;box-shadow:0 12px 40px rgba(15,27,45,.28);
padding:20px 24px;text-align:left;letter-spacing:normal;
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
.rc *{box-sizing:border-box}
button{font:inherit}
.rc:focus{outline:none}
:focus-visible{outline:3px solid #0f1b2d!important;outline-offset:2px}
h2{font-size:19px;font-weight:700;line-height:1.3;margin:0 0 6px}
p{margin:0 0 10px}
a{color:${ACCENT};text-decoration:underline;text-underline-offset:2px}
strong{font-weight:700}
.main{display:flex;flex-direction:column;gap:4px}
.gpc{background:#e8f5ec;border-left:4px solid #166534;border-radius:6px;padding:8px 12px}
.gpc strong{color:#166534}
.actions{display:flex;flex-wrap:wrap;gap:12px;margin-top:4px}
.btn{flex:1 1 130px;min-height:48px;padding:10px 18px;border-radius:8px;border:2px solid ${ACCENT};
background:${ACCENT};color:#fff;font-weight:600;cursor:pointer;line-height:1.2}
.btn:hover{filter:brightness(.88)}
.btn.alt{background:#fff;color:${ACCENT}}
.btn.alt:hover{filter:none;background:#eef2ff}
.x{float:right;width:44px;height:44px;margin:-10px -12px 0 8px;border:0;border-radius:8px;
background:none;color:#4f5b69;font-size:28px;line-height:1;cursor:pointer}
.x:hover{background:#eef2f7;color:#1b2430}
.panel{margin-top:16px;border-top:1px solid #d5dbe3}
.panel[hidden]{display:none}
.panel .btn{width:100%;margin-top:8px}
fieldset{border:0;margin:0;padding:0;min-width:0}
legend{font-weight:700;padding:12px 0 4px}
.row{display:flex;justify-content:space-between;align-items:flex-start;gap:16px;padding:12px 0;
border-bottom:1px solid #e5e9ef}
.row label{font-weight:600;cursor:pointer}
.row p{margin:2px 0 0;color:#4f5b69;font-size:14px}
.note{font-weight:600;color:#1b2430}
.cookies{display:block;margin-top:2px;overflow-wrap:anywhere;
font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
input{appearance:none;flex:none;position:relative;width:48px;height:28px;margin:2px 0 0;
border-radius:14px;background:#6b7785;cursor:pointer;transition:background .15s}
input::before{content:"";position:absolute;top:3px;left:3px;width:22px;height:22px;
border-radius:50%;background:#fff;transition:transform .15s}
input:checked{background:${ACCENT}}
input:checked::before{transform:translateX(20px)}
input:disabled{opacity:.6;cursor:not-allowed}
@media (min-width:760px){.main{flex-direction:row;align-items:center;gap:32px}.text{flex:1}
.actions{flex:none;width:220px;flex-direction:column;gap:10px}.btn{flex:none}
.panel .btn{width:auto;min-width:220px}}
@media (max-width:480px){.rc{left:8px;right:8px;bottom:8px;padding:16px;
max-height:calc(100vh - 16px)}.btn{padding:10px 12px}}
@media (prefers-reduced-motion:reduce){input,input::before{transition:none}}
@media (forced-colors:active){input{border:2px solid ButtonText}
input::before{background:ButtonText}.btn{border:2px solid ButtonText}}`;

  // --- the page's API -------------------------------------------------------------------

  function whenReady(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn, { once: true });
  }

  window.RightfulConsent = Object.freeze({
    /** Reopen the banner, e.g. from a "Cookie settings" link. */
    open: () => show(true),
    /** What may run now: {category: bool}. */
    get: () => allowedNow(),
    /** Resolves with get()'s answer once the stored choices are applied (or the banner shown). */
    ready,
    /** Whether the browser sends Global Privacy Control. */
    gpc,
  });

  // Links marked data-rightful-open reopen the banner (no inline handler: strict CSPs allow this).
  document.addEventListener("click", (e) => {
    const link = e.target instanceof Element && e.target.closest("[data-rightful-open]");
    if (!link) return;
    e.preventDefault();
    show(true, link);
  });

  if (saved && saved.c) whenReady(() => activate(allowedNow())); // no need to wait for the network
  load();
})();
