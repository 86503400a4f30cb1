/* Order form: when the market changes, the labels and hints show its unit, lot and tick.
   Without scripts the page shows those of the market chosen when it was loaded. */
(function () {
  "use strict";
  var data = document.getElementById("market-terms");
  var select = document.getElementById("market_id");
  if (!data || !select) { return; }
  var terms = JSON.parse(data.textContent);
  function setText(selector, text) {
    var node = document.querySelector(selector);
    if (node && text) { node.textContent = text; }
  }
  function update() {
    var t = terms[select.value];
    if (!t) { return; }
    setText('label[for="quantity"]', t.quantity);
    setText("#quantity-hint", t.quantity_hint);
    setText('label[for="limit_price"]', t.price);
    setText("#limit_price-hint", t.price_hint);
  }
  select.addEventListener("change", update);
})();
