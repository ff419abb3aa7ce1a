/* request-form.js: the declaration names the law of the state chosen as soon as it is chosen.
   Without JavaScript the server does the same when the form comes back, and asks the person
   to sign again if they signed another state's text (see privacy_center/routes.py). */
(() => {
  "use strict";
  const state = document.getElementById("jurisdiction");
  const law = document.getElementById("declaration-law");
  const shown = document.querySelector('input[name="declaration_jurisdiction"]');
  if (!state || !law || !shown) return;
  const follow = () => {
    const option = state.selectedOptions[0];
    if (!option || !option.dataset.law) return;
    law.textContent = option.dataset.law;
    shown.value = state.value;
  };
  state.addEventListener("change", follow);
  // A page restored with "Back" keeps the choice made before: show its text at once.
  follow();
})();
