/* When the server refuses a screen's callbacks (401/403 with {"error": ...}), say so over the
   whole screen instead of leaving stale numbers up: a revoked wall token, a session that
   ended, a role that may not use this page. Served from assets/, no external scripts. */
(function () {
  "use strict";
  var TEXT = {
    revoked: ["访问已撤销", "Access revoked",
              "此大屏的访问令牌已被撤销或已过期。 This wall's access token was revoked or has expired."],
    signed_out: ["已退出登录", "Signed out", "请重新登录。 Please sign in again."],
    forbidden: ["无权访问", "Access denied", "您的角色不能使用此页面。 Your role may not use this page."]
  };
  var shown = null;

  function show(kind) {
    var text = TEXT[kind];
    if (!text || (shown && shown.kind === kind)) { return; }
    if (shown) { shown.element.remove(); }
    var banner = document.createElement("div");
    banner.className = "cb-access-banner";
    banner.id = "cb-access-banner";
    banner.setAttribute("role", "alert");
    banner.dataset.kind = kind;
    var title = document.createElement("div");
    title.className = "cb-access-banner-title";
    title.textContent = text[0] + " / " + text[1];
    var body = document.createElement("div");
    body.className = "cb-access-banner-text";
    body.textContent = text[2];
    banner.appendChild(title);
    banner.appendChild(body);
    if (kind !== "revoked") {
      var link = document.createElement("a");
      link.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
      link.textContent = "登录 / Sign in";
      banner.appendChild(link);
    }
    if (kind === "forbidden") {   // one refused action (an export): the page itself still works
      banner.title = "点击关闭 / Click to close";
      banner.addEventListener("click", function () { banner.remove(); shown = null; });
    }
    document.body.appendChild(banner);
    shown = {kind: kind, element: banner};
  }

  var original = window.fetch;
  if (!original) { return; }
  window.fetch = function () {
    return original.apply(this, arguments).then(function (response) {
      if (response.status === 401 || response.status === 403) {
        response.clone().json().then(function (body) {
          if (body && typeof body.error === "string") { show(body.error); }
        }, function () { /* not ours: no JSON body */ });
      }
      return response;
    });
  };
})();
