// Starts Swagger UI on /api/v1/docs (templates/swagger_ui.html): a file, not an inline
// script, so the Content-Security-Policy can refuse every inline script.
window.addEventListener("load", function () {
  var container = document.getElementById("swagger-ui-container");
  var config = JSON.parse(container.getAttribute("data-config") || "{}");
  config.url = container.getAttribute("data-spec-url");
  config.dom_id = "#swagger-ui-container";
  // "Try it out" while logged in: the session cookie goes along (same origin), and writes
  // need the session's CSRF token, as the portal's forms send it. Bearer calls ignore it.
  var csrf = container.getAttribute("data-csrf");
  config.requestInterceptor = function (request) {
    var method = (request.method || "GET").toUpperCase();
    var sameOrigin = new URL(request.url, window.location.href).origin === window.location.origin;
    if (csrf && sameOrigin && method !== "GET" && method !== "HEAD") {
      request.headers["X-CSRFToken"] = csrf;
    }
    return request;
  };
  window.ui = SwaggerUIBundle(config);
});
