// Test driver for the HTML report, appended to a copy of the page by
// tests/browser/html_report_test.cpp (the shipped page has no test code).
// It uses the page as a person would: clicks headers, rows, buttons and
// icicle frames, types a filter; then writes what it observed as JSON into
// a <pre> with the id driver-log, which the test reads from chromium's --dump-dom.
// Options come from window.driverOptions: {filter: "text to type"}.
(function () {
  'use strict';
  const log = { loadedMs: performance.now() };
  const section = document.querySelector('section.process');
  const table = section.querySelector('table.leak-table');
  const texts = (selector, root) => [...(root || section).querySelectorAll(selector)].map((node) => node.textContent);
  const header = (key) => table.querySelector(`th[data-sort-key="${key}"]`);
  const clickHeader = (key) => header(key).querySelector('button').click();
  const rows = () => table.querySelectorAll('tbody tr.leak-row');
  const stackRows = () => table.querySelectorAll('tbody tr.stack-row').length;

  log.pwned = document.body.dataset.pwned || null;
  log.rowsInitially = rows().length;
  log.stackRowsInitially = stackRows();

  let start = performance.now();
  clickHeader('bytes');
  log.sortMs = performance.now() - start;
  log.bytesAscending = texts('td.col-bytes', table);
  log.ariaSortAfterOneClick = header('bytes').getAttribute('aria-sort');
  clickHeader('bytes');
  log.bytesDescending = texts('td.col-bytes', table);
  clickHeader('function');
  log.functionsAscending = texts('td.top-fn', table);
  log.ariaSortFunction = header('function').getAttribute('aria-sort');
  clickHeader('bytes');  // back to biggest first

  const second = rows()[1];
  second.click();
  const expanded = second.nextElementSibling;
  log.expandedIsStackRow = expanded.classList.contains('stack-row');
  log.expandedFunctions = texts('.frame-fn', expanded);
  log.expandedLocations = texts('.frame-loc', expanded);
  second.click();
  log.stackRowsAfterCollapse = stackRows();

  const more = section.querySelector('.leak-sites .show-more');
  log.showMoreText = more.hidden ? null : more.textContent;
  if (!more.hidden) {
    start = performance.now();
    more.click();
    log.showMoreMs = performance.now() - start;
    log.rowsAfterShowMore = rows().length;
  }

  const filter = section.querySelector('input.filter');
  filter.value = (window.driverOptions || {}).filter || '';
  start = performance.now();
  filter.dispatchEvent(new Event('input'));
  log.filterMs = performance.now() - start;
  log.rowsAfterFilter = rows().length;
  log.rowCountText = section.querySelector('.row-count').textContent;

  const flame = section.querySelector('.flame');
  log.flameNodes = flame.querySelectorAll('.flame-node').length;
  const mainNode = [...flame.querySelectorAll('.flame-node')].find((node) => node.textContent === 'main');
  mainNode.click();
  log.flameAncestorsAfterZoom = texts('.flame-node.ancestor', flame);

  log.errorCards = texts('.error-card .error-message');
  log.totalMs = performance.now();
  document.body.append(Object.assign(document.createElement('pre'), { id: 'driver-log', textContent: JSON.stringify(log) }));
})();
