/* Swagger UI for /api/docs: the token pasted in the page is sent as a bearer token. */
(function () {
  "use strict";
  var container = document.getElementById("swagger-ui-container");
  var tokenInput = document.getElementById("api-token");
  window.addEventListener("load", function () {
    window.ui = SwaggerUIBundle({
      url: container.getAttribute("data-spec-url"),
      dom_id: "#swagger-ui-container",
      requestInterceptor: function (request) {
        var token = (tokenInput.value || "").trim();
        if (token) {
          request.headers.Authorization = "Bearer " + token;
        }
        return request;
      }
    });
  });
})();
