/* Assignment rules: drag a rule within its table to change the order (SortableJS); posts kind and
   ids[] in the new order; the answer's HX-Trigger shows a toast. */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function init() {
    if (typeof Sortable === "undefined") return;
    document.querySelectorAll("tbody[data-sortable-url]").forEach(function (tbody) {
      Sortable.create(tbody, {
        handle: ".kehu-drag-handle",
        draggable: "tr[data-id]",
        animation: 150,
        onEnd: function (evt) {
          if (evt.oldIndex === evt.newIndex) return;
          var body = new FormData();
          body.append("kind", tbody.dataset.kind);
          tbody.querySelectorAll("tr[data-id]").forEach(function (row) { body.append("ids", row.dataset.id); });
          fetch(tbody.dataset.sortableUrl, {
            method: "POST",
            credentials: "same-origin",
            headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" },
            body: body
          }).then(function (response) {
            var trigger = response.headers.get("HX-Trigger");
            if (trigger && window.kehuToast) {
              try {
                var toast = JSON.parse(trigger)["kehu:toast"];
                if (toast) window.kehuToast(toast.message, toast.level);
              } catch (e) { /* not JSON */ }
            } else if (!response.ok && window.kehuToast) {
              window.kehuToast("HTTP " + response.status, "error");
            }
          });
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
