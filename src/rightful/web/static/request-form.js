/* request-form.js: the declaration follows the place chosen as soon as it is chosen. It is
   shown only where that place needs it for the kind of request chosen (each option's
   data-declaration lists those kinds: the law's rule, rights/declaration.py), and names that
   place's law. Without JavaScript the server does the same when the form comes back: it shows
   the declaration for the place chosen, asks for a signature only where it is needed, and asks
   the person to sign again if they signed another state's text (privacy_center/routes.py). */
(() => {
  "use strict";
  const state = document.getElementById("jurisdiction");
  const box = document.getElementById("declaration");
  if (!state || !box) return;
  const law = document.getElementById("declaration-law");
  const shown = box.querySelector('input[name="declaration_jurisdiction"]');
  const follow = () => {
    const option = state.selectedOptions[0];
    if (!option) return;
    const kinds = (option.dataset.declaration || "").split(" ").filter(Boolean);
    const type = document.querySelector('input[name="request_type"]:checked');
    const show = kinds.length > 0 && (!type || kinds.includes(type.value));
    box.hidden = !show;
    // A hidden declaration is not sent: nobody signs what they cannot see.
    box.querySelectorAll("input").forEach((input) => {
      input.disabled = !show;
    });
    if (law && shown && option.dataset.law) {
      law.textContent = option.dataset.law;
      shown.value = state.value;
    }
  };
  state.addEventListener("change", follow);
  document.querySelectorAll('input[name="request_type"]').forEach((radio) => {
    radio.addEventListener("change", follow);
  });
  // A page restored with "Back" keeps the choice made before: show its text at once.
  follow();
})();
