/* Tag settings: drag tags within their table and tag groups (cards) to reorder them (SortableJS).
   Posts ids[] in the new order (model=group for groups); the answer's HX-Trigger shows a toast. */
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

  function sortable(el, handle, selector, url, model) {
    Sortable.create(el, {
      handle: handle,
      draggable: selector,
      animation: 150,
      onEnd: function (evt) {
        if (evt.oldIndex === evt.newIndex) return;
        var body = new FormData();
        if (model) body.append("model", model);
        el.querySelectorAll(selector).forEach(function (item) { body.append("ids", item.dataset.id); });
        post(url, body);
      }
    });
  }

  function init(root) {
    if (typeof Sortable === "undefined") return;
    root.querySelectorAll("tbody[data-sortable-url]:not([data-sortable-ready])").forEach(function (tbody) {
      tbody.setAttribute("data-sortable-ready", "");
      sortable(tbody, ".kehu-drag-handle", "tr[data-id]", tbody.dataset.sortableUrl, "");
    });
    root.querySelectorAll("[data-sortable-groups]:not([data-sortable-ready])").forEach(function (el) {
      el.setAttribute("data-sortable-ready", "");
      sortable(el, ".kehu-drag-handle-group", ".kehu-tag-group", el.dataset.sortableGroups, "group");
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.body.addEventListener("htmx:load", function (evt) { init(evt.detail.elt); });
})();
