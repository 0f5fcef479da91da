/* Kehu front-end glue: modals and toasts for htmx responses. No framework beyond htmx + Alpine. */
(function () {
  "use strict";
  // Tabler 1.6 bundles Bootstrap as window.tabler.bootstrap; code (ours and pages') uses `bootstrap`.
  if (!window.bootstrap && window.tabler && window.tabler.bootstrap) window.bootstrap = window.tabler.bootstrap;

  function toast(message, level) {
    var box = document.getElementById("kehu-toasts");
    if (!box || !message) return;
    var el = document.createElement("div");
    el.className = "toast show align-items-center border-0 text-bg-" + (level === "error" ? "danger" : (level || "success"));
    el.setAttribute("role", "status");
    var row = document.createElement("div");
    row.className = "d-flex";
    var body = document.createElement("div");
    body.className = "toast-body";
    body.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close btn-close-white me-2 m-auto";
    close.addEventListener("click", function () { el.remove(); });
    row.appendChild(body); row.appendChild(close); el.appendChild(row); box.appendChild(el);
    setTimeout(function () { el.remove(); }, 5000);
  }
  window.kehuToast = toast;

  // Server-sent toasts: HX-Trigger: {"kehu:toast": {"message": "...", "level": "success"}}
  document.body.addEventListener("kehu:toast", function (evt) {
    toast(evt.detail.message, evt.detail.level);
  });

  // Modals: links/buttons with hx-target="#kehu-modal-content" open the modal when content arrives.
  document.body.addEventListener("htmx:afterSwap", function (evt) {
    if (evt.detail.target && evt.detail.target.id === "kehu-modal-content") {
      var modal = bootstrap.Modal.getOrCreateInstance(document.getElementById("kehu-modal"));
      modal.show();
    }
  });
  document.body.addEventListener("kehu:closeModal", function () {
    var el = document.getElementById("kehu-modal");
    var modal = bootstrap.Modal.getInstance(el);
    if (modal) modal.hide();
  });

  // Errors from htmx requests become a toast instead of silence.
  document.body.addEventListener("htmx:responseError", function (evt) {
    var status = evt.detail.xhr.status;
    toast((document.documentElement.lang || "").indexOf("zh") === 0 ? "请求失败（" + status + "）" : "Request failed (" + status + ")", "error");
  });

  // Auto-hide server-rendered toasts.
  document.querySelectorAll("#kehu-toasts .toast").forEach(function (el) { setTimeout(function () { el.remove(); }, 6000); });

  // tom-select on <select data-tom-select>
  function enhance(root) {
    if (typeof TomSelect === "undefined") return;
    root.querySelectorAll("select[data-tom-select]:not(.tomselected)").forEach(function (el) {
      var opts = { plugins: el.multiple ? ["remove_button"] : [], maxOptions: 200 };
      var url = el.getAttribute("data-tom-select-url");
      // data-tom-select-forward="account": the search also sends the value of the form's "account"
      // field (e.g. only that account's contacts), lists on focus, and forgets its results when it changes.
      var forward = el.getAttribute("data-tom-select-forward");
      var source = forward && el.form ? el.form.elements.namedItem(forward) : null;
      if (url) {
        opts.valueField = "id"; opts.labelField = "text"; opts.searchField = ["text"];
        opts.load = function (query, cb) {
          var u = url + (url.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(query);
          if (source && source.value) u += "&" + encodeURIComponent(forward) + "=" + encodeURIComponent(source.value);
          fetch(u, { credentials: "same-origin" })
            .then(function (r) { return r.json(); }).then(function (j) { cb(j.results); }).catch(function () { cb(); });
        };
        if (source) { opts.preload = "focus"; }
      }
      var ts = new TomSelect(el, opts);
      if (url && source) {
        source.addEventListener("change", function () { ts.clearOptions(); ts.wrapper.classList.remove("preloaded"); });
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.body.addEventListener("htmx:load", function (evt) { enhance(evt.detail.elt); });
})();
