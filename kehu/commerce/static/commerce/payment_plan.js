/* Payment plan editor: add and remove instalment rows (works after htmx swaps too). */
(function () {
  "use strict";
  if (window.kehuPaymentPlanEditor) return;
  window.kehuPaymentPlanEditor = true;
  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-plan-add]");
    if (add) {
      var form = add.closest("[data-plan-form]");
      var template = form.querySelector("template[data-plan-template]");
      form.querySelector("[data-plan-rows] tbody").appendChild(template.content.cloneNode(true));
      return;
    }
    var remove = event.target.closest("[data-plan-remove]");
    if (remove) {
      var body = remove.closest("tbody");
      if (body.querySelectorAll("[data-plan-row]").length > 1) remove.closest("[data-plan-row]").remove();
    }
  });
})();
