/* Starts Swagger UI on /api/v1/docs from the page's JSON configuration (emergency/templates/
 * swagger_ui.html), so the page needs no inline script. */
window.addEventListener('load', function () {
  'use strict';
  var config = JSON.parse(document.getElementById('swagger-config').textContent);
  window.ui = window.SwaggerUIBundle(config);
});
