/* Inside the embed iframe: tells the host page (embed.js) how tall the content is. */
/* global document, window, ResizeObserver */
(function () {
  'use strict';
  if (window.parent === window) return;
  var last = -1;
  function send() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    // Only a height is sent, never data: any parent may read it.
    window.parent.postMessage({ type: 'marquee:embed-height', height: height }, '*');
  }
  if (typeof ResizeObserver === 'function')
    new ResizeObserver(send).observe(document.documentElement);
  window.addEventListener('load', send);
  send();
})();
