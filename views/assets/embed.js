/*
 * Marquee embed: include with one tag where the list should appear, e.g.
 *   <script src="https://events.example.org/embed.js" data-city="Amsterdam" data-limit="5" async></script>
 * Every data- attribute named like a filter parameter (city, genre, organizer, venue, source,
 * from, to, q, days, order, near, radius, limit, theme, accent) is passed on. It inserts an
 * iframe after itself (or into the element matched by data-target) and keeps the iframe as tall
 * as its content.
 */
/* global document, window, URL, URLSearchParams */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || !script.src) return;
  var origin = new URL(script.src).origin;
  var names = [
    'city',
    'genre',
    'organizer',
    'venue',
    'source',
    'from',
    'to',
    'q',
    'days',
    'order',
    'near',
    'radius',
    'limit',
    'theme',
    'accent',
  ];
  var params = new URLSearchParams();
  for (var i = 0; i < names.length; i++) {
    var value = script.getAttribute('data-' + names[i]);
    if (value) params.set(names[i], value);
  }
  var query = params.toString();

  var iframe = document.createElement('iframe');
  iframe.src = origin + '/embed' + (query ? '?' + query : '');
  iframe.title = script.getAttribute('data-title') || 'Upcoming events';
  iframe.setAttribute('scrolling', 'no');
  iframe.setAttribute('referrerpolicy', 'strict-origin-when-cross-origin');
  iframe.style.display = 'block';
  iframe.style.width = '100%';
  iframe.style.border = '0';
  iframe.style.height = '20rem';

  var selector = script.getAttribute('data-target');
  var target = selector ? document.querySelector(selector) : null;
  if (target) target.appendChild(iframe);
  else script.parentNode.insertBefore(iframe, script.nextSibling);

  window.addEventListener('message', function (event) {
    if (event.source !== iframe.contentWindow || event.origin !== origin) return;
    var data = event.data;
    if (!data || data.type !== 'marquee:embed-height' || typeof data.height !== 'number') return;
    iframe.style.height = Math.max(0, Math.min(Math.ceil(data.height), 100000)) + 'px';
  });
})();
