/* Marquee pages: copy buttons and tidy filter URLs. Pages work without it. */
/* global document, navigator, window */
(function () {
  'use strict';

  // Empty form fields would put "city=&genre=&..." into every shared URL: leave them out.
  var form = document.querySelector('form.filters');
  if (form) {
    form.addEventListener('submit', function () {
      var fields = form.querySelectorAll('select, input');
      for (var i = 0; i < fields.length; i++) {
        var field = fields[i];
        if (field.name && field.value === '' && !field.multiple) field.removeAttribute('name');
      }
    });
  }

  var status = document.querySelector('.copy-status');
  function announce(text) {
    if (status) status.textContent = text;
  }

  function fallbackCopy(text) {
    var area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'visually-hidden';
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    document.body.removeChild(area);
    return ok;
  }

  var buttons = document.querySelectorAll('button[data-copy]');
  for (var i = 0; i < buttons.length; i++) {
    var button = buttons[i];
    button.hidden = false;
    button.addEventListener('click', function (event) {
      var target = event.currentTarget;
      var text = target.getAttribute('data-copy') || '';
      var done = function () {
        target.textContent = 'Copied';
        announce('Link copied to the clipboard.');
        window.setTimeout(function () {
          target.textContent = 'Copy';
        }, 2000);
      };
      var failed = function () {
        announce('Could not copy; select the link and copy it by hand.');
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () {
          if (fallbackCopy(text)) done();
          else failed();
        });
      } else if (fallbackCopy(text)) {
        done();
      } else {
        failed();
      }
    });
  }
})();
