/* Tag picker: <select multiple data-kehu-tag-picker data-create="1" data-url="..."> as tom-select
   with coloured chips (Tabler "bg-<colour>-lt" badges). Options carry data-colour;
   remote options come from data-url (?q=); new names are sent as "new:<name>" when data-create is set.
   Loaded by the widget itself (also inside htmx modals); initialises once per select. */
(function () {
  "use strict";
  if (window.kehuTagPicker) { window.kehuTagPicker(document); return; }

  function esc(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }

  function badge(data, escape) {
    var colour = /^[a-z]+$/.test(data.colour || "") ? data.colour : "blue";
    return '<span class="badge bg-' + colour + '-lt">' + escape(data.text) + "</span>";
  }

  function option(data, escape) { return "<div>" + badge(data, escape) + "</div>"; }

  // The selected chip is the badge itself (no second box from the tom-select theme).
  function item(data, escape) {
    return '<div class="kehu-tag-item" style="background:none;border:0;padding:0;margin:0 4px 3px 0;box-shadow:none">' +
      badge(data, escape) + "</div>";
  }

  function init(root) {
    if (typeof TomSelect === "undefined") return;
    root.querySelectorAll("select[data-kehu-tag-picker]:not(.tomselected)").forEach(function (el) {
      var url = el.getAttribute("data-url");
      var opts = {
        plugins: ["remove_button"],
        maxOptions: 200,
        persist: false,
        create: el.getAttribute("data-create") === "1"
          ? function (input) { return { value: "new:" + input, text: input, colour: "gray" }; }
          : false,
        render: {
          option: option,
          item: item,
          option_create: function (data, escape) {
            return '<div class="create">' + esc(el.getAttribute("data-create-label") || "+") + " <strong>" + escape(data.input) + "</strong></div>";
          }
        }
      };
      if (url) {
        opts.load = function (query, cb) {
          fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(query), { credentials: "same-origin" })
            .then(function (r) { return r.json(); })
            .then(function (j) {
              cb((j.results || []).map(function (t) { return { value: String(t.id), text: t.text, colour: t.colour }; }));
            })
            .catch(function () { cb(); });
        };
      }
      new TomSelect(el, opts);
    });
  }

  window.kehuTagPicker = init;
  init(document);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.body.addEventListener("htmx:load", function (evt) { init(evt.detail.elt); });
})();
