// Starts Swagger UI on /api/v1/docs (templates/swagger_ui.html): a file, not an inline
// script, so the Content-Security-Policy can refuse every inline script.
window.addEventListener("load", function () {
  var container = document.getElementById("swagger-ui-container");
  var config = JSON.parse(container.getAttribute("data-config") || "{}");
  config.url = container.getAttribute("data-spec-url");
  config.dom_id = "#swagger-ui-container";
  window.ui = SwaggerUIBundle(config);
});
