/* The demo's stand-in for an advertising partner's tag: it sets tracking cookies and fills the
   "Recommended for you" slot. On the demo shop it only runs once "targeting" is allowed. */
(() => {
  "use strict";
  const year = 365 * 86400;
  const id = Math.random().toString(36).slice(2, 12);
  document.cookie = `_bright_id=${id}; Path=/; Max-Age=${year}; SameSite=Lax`;
  document.cookie = `_bright_seg_home=smart-lighting; Path=/; Max-Age=${year}; SameSite=Lax`;
  window.__brightads = true;
  const fill = () => {
    const slot = document.querySelector("[data-brightads-slot]");
    if (!slot) return;
    const title = document.createElement("p");
    title.className = "ad-title";
    title.textContent = "Halo 2 starter kit: 3 bulbs and a dimmer, $59";
    const note = document.createElement("p");
    note.className = "ad-note";
    note.textContent =
      "Ad by BrightAds, chosen from the pages you visited. Turn targeting off in Cookie settings.";
    slot.classList.add("filled");
    slot.replaceChildren(title, note);
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fill);
  else fill();
})();
