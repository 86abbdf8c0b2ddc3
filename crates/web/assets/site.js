// A little enhancement over pages that work without it: the Password rules checked as the
// reader types, and renewing without reloading the page. No inline script anywhere (the
// Content-Security-Policy forbids it); everything here is progressive.
(function () {
  "use strict";

  // Live Password rules: the rules a browser can check alone are marked met or unmet.
  var rules = {
    too_short: function (p) { return Array.from(p).length >= 8; },
    missing_uppercase: function (p) { return /\p{Lu}/u.test(p); },
    missing_lowercase: function (p) { return /\p{Ll}/u.test(p); },
    missing_digit: function (p) { return /[0-9\uFF10-\uFF19]/.test(p); }
  };
  function watchPassword() {
    var input = document.getElementById("new_password");
    var list = document.getElementById("password-rules");
    if (!input || !list) { return; }
    list.setAttribute("aria-live", "polite");
    function update() {
      var value = input.value;
      list.querySelectorAll("li[data-rule]").forEach(function (li) {
        var check = rules[li.getAttribute("data-rule")];
        if (!check) { return; }
        var met = value.length > 0 && check(value);
        li.classList.toggle("met", met);
        li.classList.toggle("unmet", !met);
      });
    }
    input.addEventListener("input", update);
    update();
  }

  // Renew without a reload: the form is sent as it would be, the redirected page is read,
  // and its main part replaces this one's.
  function enhanceRenewal() {
    var form = document.getElementById("renew");
    if (!form || !window.fetch || !window.DOMParser) { return; }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(form, event.submitter);
      var buttons = form.querySelectorAll("button");
      buttons.forEach(function (b) { b.disabled = true; });
      fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(data),
        credentials: "same-origin",
        redirect: "follow"
      }).then(function (response) {
        return response.text().then(function (html) { return { response: response, html: html }; });
      }).then(function (r) {
        var doc = new DOMParser().parseFromString(r.html, "text/html");
        var fresh = doc.querySelector("main");
        var current = document.querySelector("main");
        if (!fresh || !current) { window.location.assign(r.response.url); return; }
        current.replaceWith(fresh);
        history.replaceState(null, "", r.response.url);
        enhanceRenewal();
        var results = document.getElementById("renewal-results");
        (results || fresh).setAttribute("tabindex", "-1");
        (results || fresh).focus();
      }).catch(function () {
        form.submit();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    watchPassword();
    enhanceRenewal();
  });
})();
