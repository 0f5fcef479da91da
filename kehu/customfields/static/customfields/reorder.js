/* Drag to reorder rows of <tbody data-sortable-url="..."> (SortableJS); posts ids[] in the new order
   (and `model` from data-sortable-model); the server answers with a toast (HX-Trigger). */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function post(url, body) {
    return fetch(url, {
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

  function init(root) {
    if (typeof Sortable === "undefined") return;
    root.querySelectorAll("tbody[data-sortable-url]:not([data-sortable-ready])").forEach(function (tbody) {
      tbody.setAttribute("data-sortable-ready", "");
      Sortable.create(tbody, {
        handle: ".kehu-drag-handle",
        animation: 150,
        onEnd: function (evt) {
          if (evt.oldIndex === evt.newIndex) return;
          var body = new FormData();
          if (tbody.dataset.sortableModel) body.append("model", tbody.dataset.sortableModel);
          tbody.querySelectorAll("tr[data-id]").forEach(function (row) { body.append("ids", row.dataset.id); });
          post(tbody.dataset.sortableUrl, body);
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.body.addEventListener("htmx:load", function (evt) { init(evt.detail.elt); });
})();
