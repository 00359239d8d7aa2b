// Compound: unsent form text survives an ended session. Pages work without this file.
//
// Forms marked data-draft="name" keep their text fields in sessionStorage as they are
// typed (this tab only, gone when it closes). A draft is dropped once its form was sent
// successfully; it is put back into the empty fields when the page loads again: after the
// login page (whose data-session-ended notice marks the round trip), even a draft whose
// post the ended session refused is put back.
(function () {
  "use strict";

  var PREFIX = "compound:draft:";
  var RELOGIN = "compound:relogin";

  function storage() {
    try { return window.sessionStorage; } catch (e) { return null; }
  }

  function keyOf(form) {
    return PREFIX + window.location.pathname + ":" + form.getAttribute("data-draft");
  }

  function textFields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      var type = (el.getAttribute("type") || "text").toLowerCase();
      return el.name && el.name !== "csrf_token" &&
        (el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && (type === "text" || type === "search")));
    });
  }

  function save(form, sent) {
    var store = storage();
    if (!store) return;
    var values = {};
    var any = false;
    textFields(form).forEach(function (el) {
      if (el.value) { values[el.name] = el.value; any = true; }
    });
    if (any) store.setItem(keyOf(form), JSON.stringify({ values: values, sent: sent }));
    else store.removeItem(keyOf(form));
  }

  function restore(form, afterLogin) {
    var store = storage();
    if (!store) return;
    var raw = store.getItem(keyOf(form));
    if (!raw) return;
    var draft;
    try { draft = JSON.parse(raw); } catch (e) { store.removeItem(keyOf(form)); return; }
    if (draft.sent && !afterLogin) { store.removeItem(keyOf(form)); return; }
    textFields(form).forEach(function (el) {
      if (!el.value && draft.values[el.name]) el.value = draft.values[el.name];
    });
    form.setAttribute("data-draft-restored", "true");
  }

  function draftForm(node) {
    return node && node.closest ? node.closest("form[data-draft]") : null;
  }

  document.addEventListener("input", function (event) {
    var form = draftForm(event.target);
    if (form) save(form, false);
  });

  // Sent: kept until the answer says it arrived (htmx) or the next page load (a plain post).
  document.addEventListener("submit", function (event) {
    var form = draftForm(event.target);
    if (form) save(form, true);
  }, true);

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = draftForm(event.detail && event.detail.elt);
    var store = storage();
    if (!form || !store) return;
    if (event.detail.successful) store.removeItem(keyOf(form));
    else save(form, false);
  });

  document.addEventListener("DOMContentLoaded", function () {
    var store = storage();
    if (!store) return;
    if (document.querySelector("[data-session-ended]")) {
      store.setItem(RELOGIN, "1");
      return;
    }
    var afterLogin = store.getItem(RELOGIN) === "1";
    store.removeItem(RELOGIN);
    Array.prototype.forEach.call(document.querySelectorAll("form[data-draft]"), function (form) {
      restore(form, afterLogin);
    });
  });
})();
