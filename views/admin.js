/* global document, sessionStorage, fetch, URLSearchParams, FormData */
// The admin page's moderation tools: they call the JSON API under /admin/api/ with the token the
// operator enters, sent as `Authorization: Bearer` and kept in sessionStorage (this tab only).
// No cookie and no remembered credential reaches the API, so another site cannot act through
// the browser. Values from the server are set as text, never parsed as HTML.
(function () {
  'use strict';
  var KEY = 'marquee-admin-token';
  var tokenForm = document.getElementById('token-form');
  var tokenInput = document.getElementById('token');
  var tokenState = document.getElementById('token-state');
  var notice = document.getElementById('action-notice');

  function token() {
    try {
      return sessionStorage.getItem(KEY) || '';
    } catch {
      return tokenInput.value;
    }
  }

  function showTokenState() {
    tokenState.textContent = token() ? 'Token set for this tab.' : 'No token set.';
  }

  function say(text, bad) {
    notice.hidden = false;
    notice.textContent = text;
    notice.className = bad ? 'notice bad' : 'notice';
  }

  function call(method, path) {
    if (!token()) return Promise.reject(new Error('enter the admin token first'));
    return fetch(path, {
      method: method,
      headers: { Authorization: 'Bearer ' + token(), Accept: 'application/json' },
      credentials: 'omit',
      cache: 'no-store',
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) throw new Error(body.error || 'HTTP ' + response.status);
        return body;
      });
    });
  }

  function cell(row, text, className) {
    var td = document.createElement('td');
    td.textContent = text === null || text === undefined ? '' : String(text);
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function button(label, onClick) {
    var b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.addEventListener('click', onClick);
    return b;
  }

  function query(form) {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (typeof value === 'string' && value.trim() !== '') params.set(name, value.trim());
    });
    var text = params.toString();
    return text ? '?' + text : '';
  }

  function act(method, path, done) {
    call(method, path)
      .then(function (body) {
        say(method + ' ' + path + ': ' + (body.outcome || 'done'));
        refreshAudit();
        if (done) done();
      })
      .catch(function (error) {
        say(method + ' ' + path + ': ' + error.message, true);
      });
  }

  var eventsForm = document.getElementById('events-form');
  var eventsBody = document.getElementById('events-body');
  var eventsTotal = document.getElementById('events-total');
  function searchEvents() {
    call('GET', '/admin/api/events' + query(eventsForm))
      .then(function (page) {
        eventsBody.replaceChildren();
        eventsTotal.textContent = page.total + ' found';
        page.events.forEach(function (event) {
          var row = document.createElement('tr');
          var title = cell(row, event.title);
          var small = document.createElement('div');
          small.className = 'muted';
          small.textContent = event.id + (event.organizerName ? ' · ' + event.organizerName : '');
          title.appendChild(small);
          cell(row, event.startsAt.slice(0, 16).replace('T', ' '));
          cell(row, event.status);
          var held = [
            event.hiddenAt ? 'hidden' : '',
            event.organizationBlocked ? 'blocked' : '',
            event.test ? 'test' : '',
          ]
            .filter(Boolean)
            .join(', ');
          cell(
            row,
            event.visibility + (held ? ' (' + held + ')' : ''),
            event.visibility === 'public' ? 'ok' : 'bad',
          );
          var actions = cell(row, '');
          var path = '/admin/api/events/' + encodeURIComponent(event.id);
          actions.appendChild(
            event.hiddenAt
              ? button('Unhide', function () {
                  act('POST', path + '/unhide', searchEvents);
                })
              : button('Hide', function () {
                  act('POST', path + '/hide', searchEvents);
                }),
          );
          eventsBody.appendChild(row);
        });
      })
      .catch(function (error) {
        say('events: ' + error.message, true);
      });
  }

  var deliveriesForm = document.getElementById('deliveries-form');
  var deliveriesBody = document.getElementById('deliveries-body');
  var deliveriesTotal = document.getElementById('deliveries-total');
  var deliveryView = document.getElementById('delivery-view');
  function showDelivery(id) {
    call('GET', '/admin/api/deliveries/' + id)
      .then(function (delivery) {
        deliveryView.hidden = false;
        deliveryView.textContent = JSON.stringify(delivery, null, 2);
      })
      .catch(function (error) {
        say('delivery ' + id + ': ' + error.message, true);
      });
  }
  function searchDeliveries() {
    call('GET', '/admin/api/deliveries' + query(deliveriesForm))
      .then(function (page) {
        deliveriesBody.replaceChildren();
        deliveriesTotal.textContent = page.total + ' found';
        page.deliveries.forEach(function (delivery) {
          var row = document.createElement('tr');
          cell(row, delivery.id, 'n');
          cell(row, delivery.source + (delivery.test ? ' (test)' : ''));
          cell(row, delivery.receivedAt.slice(0, 19).replace('T', ' '));
          cell(
            row,
            delivery.status,
            delivery.status === 'failed' || delivery.status === 'rejected' ? 'bad' : '',
          );
          cell(row, delivery.messageType);
          var actions = cell(row, '');
          actions.appendChild(
            button('View', function () {
              showDelivery(delivery.id);
            }),
          );
          if (delivery.bodyRetained) {
            actions.appendChild(
              button('Replay', function () {
                act('POST', '/admin/api/deliveries/' + delivery.id + '/replay', searchDeliveries);
              }),
            );
          }
          deliveriesBody.appendChild(row);
        });
      })
      .catch(function (error) {
        say('deliveries: ' + error.message, true);
      });
  }

  var auditBody = document.getElementById('audit-body');
  function refreshAudit() {
    call('GET', '/admin/api/audit?limit=50')
      .then(function (page) {
        auditBody.replaceChildren();
        page.entries.forEach(function (entry) {
          var row = document.createElement('tr');
          cell(row, entry.at.slice(0, 19).replace('T', ' '));
          cell(row, entry.action);
          cell(row, entry.target);
          cell(row, entry.outcome, entry.outcome === 'done' ? 'ok' : '');
          cell(row, entry.client);
          auditBody.appendChild(row);
        });
      })
      .catch(function () {});
  }

  tokenForm.addEventListener('submit', function (event) {
    event.preventDefault();
    try {
      sessionStorage.setItem(KEY, tokenInput.value);
    } catch {
      // Storage refused (private mode): the token lives in the field for this page only.
    }
    showTokenState();
  });
  document.getElementById('token-forget').addEventListener('click', function () {
    try {
      sessionStorage.removeItem(KEY);
    } catch {
      // Nothing stored.
    }
    tokenInput.value = '';
    showTokenState();
  });
  eventsForm.addEventListener('submit', function (event) {
    event.preventDefault();
    searchEvents();
  });
  deliveriesForm.addEventListener('submit', function (event) {
    event.preventDefault();
    searchDeliveries();
  });
  document.getElementById('block-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var form = event.target;
    var path =
      '/admin/api/organizations/' +
      encodeURIComponent(form.elements.source.value) +
      '/' +
      encodeURIComponent(form.elements.organization.value.trim()) +
      '/' +
      event.submitter.value;
    act('POST', path);
  });
  document.querySelectorAll('[data-organization]').forEach(function (element) {
    element.addEventListener('click', function () {
      act('POST', '/admin/api/organizations/' + element.getAttribute('data-organization'));
    });
  });
  showTokenState();
})();
