// The page: reads the embedded report data and draws the overview (verdict,
// tiles, processes), a section per process (errors, leak table, icicle
// graph, notes) and the suppressions used.

const ERROR_KINDS = ['double_free', 'invalid_free', 'mismatched_free', 'heap_overflow', 'write_after_free'];
const ERROR_PAGE_SIZE = 50;
const ERRORS_SHOWN_OPEN = 10;  // beyond these, stacks start folded
const SIGNAL_NAMES = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS',
  8: 'SIGFPE', 9: 'SIGKILL', 11: 'SIGSEGV', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM',
};

function errorCount(summary) {
  return ERROR_KINDS.reduce((sum, kind) => sum + summary.errors[kind], 0);
}

// The sums over all processes that the tiles show.
function totals(processes) {
  const total = {
    leakedBytes: 0, leakedBlocks: 0, definiteBytes: 0, suppressedBytes: 0, leakSites: 0,
    errors: Object.fromEntries(ERROR_KINDS.map((kind) => [kind, 0])),
    peakBytes: 0, allocations: 0, frees: 0, allocatedBytes: 0, leaksUnknown: 0,
  };
  for (const { summary, leaks, leaks_unknown: leaksUnknown } of processes) {
    if (leaksUnknown) total.leaksUnknown += 1;
    total.leakedBytes += summary.leaked_bytes;
    total.leakedBlocks += summary.leaked_blocks;
    total.definiteBytes += summary.definite_bytes;
    total.suppressedBytes += summary.suppressed_bytes;
    total.leakSites += leaks.length;
    for (const kind of ERROR_KINDS) total.errors[kind] += summary.errors[kind];
    total.peakBytes = Math.max(total.peakBytes, summary.peak_bytes);
    total.allocations += summary.total_allocations;
    total.frees += summary.total_frees;
    total.allocatedBytes += summary.total_bytes;
  }
  total.errorCount = errorCount(total);
  return total;
}

// "1 double free · 2 mismatched frees"
function errorBreakdown(errors) {
  const parts = ERROR_KINDS.filter((kind) => errors[kind] > 0).map((kind) => plural(errors[kind], kindLabel(kind)));
  return parts.join(' · ');
}

function renderVerdict(total, processCount) {
  const across = processCount > 1 ? ` across ${plural(processCount, 'process', 'processes')}` : '';
  // A process whose blocks could not be listed at its crash is no proof
  // of "no leaks".
  const unknown = total.leaksUnknown > 0
    ? `; the leaks of ${plural(total.leaksUnknown, 'process', 'processes')} are unknown (see its notes)` : '';
  if (total.leakedBytes === 0 && total.errorCount === 0) {
    if (unknown) return el('p', { className: 'banner' }, `No leaks seen and no heap errors${across}${unknown}.`);
    return el('p', { className: 'banner good' }, `No leaks and no heap errors${across}.`);
  }
  const findings = [];
  if (total.leakedBlocks > 0)
    findings.push(`${formatCount(total.leakedBytes)} bytes leaked in ${plural(total.leakedBlocks, 'block')}`);
  if (total.errorCount > 0) findings.push(plural(total.errorCount, 'heap error'));
  return el('p', { className: 'banner bad' }, `${findings.join(' and ')}${across}${unknown}.`);
}

function tile(key, label, value, detail, tone) {
  return el(
    'div',
    { className: `tile ${tone || ''}`, dataset: { tile: key } },
    el('div', { className: 'tile-label' }, label),
    el('div', { className: 'tile-value' }, value),
    el('div', { className: 'tile-detail' }, detail),
  );
}

function renderTiles(total, processCount) {
  const leakTone = total.leakedBytes > 0 ? 'bad' : 'good';
  const suppressed = total.suppressedBytes > 0 ? ` · ${formatCount(total.suppressedBytes)} B suppressed` : '';
  const tiles = [
    tile('leaked-bytes', 'Leaked bytes', formatCount(total.leakedBytes), `${formatBytes(total.leakedBytes)}${suppressed}`, leakTone),
    tile('leaked-blocks', 'Leaked blocks', formatCount(total.leakedBlocks), `from ${plural(total.leakSites, 'leak site')}`, leakTone),
    tile('errors', 'Heap errors', formatCount(total.errorCount), errorBreakdown(total.errors) || 'none', total.errorCount > 0 ? 'bad' : 'good'),
    tile('peak-bytes', 'Peak live bytes', formatCount(total.peakBytes),
      `${formatBytes(total.peakBytes)}${processCount > 1 ? ', largest process' : ''}`),
    tile('allocations', 'Allocations', formatCount(total.allocations),
      `${formatCount(total.frees)} frees · ${formatBytes(total.allocatedBytes)} allocated`),
  ];
  // One long number shrinks them all, so the row stays even.
  const compact = tiles.some((node) => node.querySelector('.tile-value').textContent.length > 10);
  return el('div', { className: compact ? 'tiles compact' : 'tiles' }, tiles);
}

function processStatus(process) {
  if (process.signal) {
    const name = SIGNAL_NAMES[process.signal] || `signal ${process.signal}`;
    return `${process.crashed ? 'crashed' : 'killed'} with ${name}`;
  }
  if (process.crashed) return 'crashed';
  if (process.exit_status === null) return 'exit status unknown';
  return `exited with status ${process.exit_status}`;
}

function commandLine(process) {
  return process.argv.length ? process.argv.map(shellQuote).join(' ') : process.exe;
}

// A process's snapshot traces are sections of their own.
function processAnchor(process) {
  return process.snapshot ? `process-${process.pid}-snapshot-${process.snapshot.sequence}` : `process-${process.pid}`;
}

function snapshotLabel(process) {
  return process.snapshot && `snapshot ${process.snapshot.sequence} (${process.snapshot.trigger})`;
}

function hasSection(process, processCount) {
  return processCount === 1 || process.leaks.length > 0 || process.errors.length > 0 || process.leaks_unknown;
}

// One line per process: the summary of the clean ones, a way into the others.
function renderProcessList(processes) {
  const rows = processes.map((process) => {
    const { summary } = process;
    const errors = errorCount(summary);
    const pid = hasSection(process, processes.length)
      ? el('a', { href: `#${processAnchor(process)}` }, String(process.pid))
      : String(process.pid);
    return el(
      'tr',
      { className: 'process-row' },
      el('td', { className: 'num' }, pid),
      el('td', {}, el('code', {}, commandLine(process)), process.snapshot && ` ${snapshotLabel(process)}`),
      el('td', {}, processStatus(process)),
      el('td', { className: 'num' }, formatCount(summary.leaked_bytes)),
      el('td', { className: 'num' }, formatCount(errors)),
      el('td', {}, summary.leaked_bytes || errors ? el('span', { className: 'badge bad' }, 'findings') : el('span', { className: 'badge good' }, 'clean')),
    );
  });
  const columns = [['PID', 'num'], ['Command'], ['Status'], ['Leaked bytes', 'num'], ['Errors', 'num'], ['']];
  const head = el('tr', {}, columns.map(([label, className]) => el('th', { className }, label)));
  return el('section', { className: 'card' }, el('h2', {}, 'Processes'), el('table', { className: 'process-table' }, el('thead', {}, head), el('tbody', {}, rows)));
}

function renderErrorCard(error, frames, open) {
  return el(
    'article',
    { className: 'error-card', dataset: { kind: error.kind } },
    el('div', { className: 'error-title' }, el('span', { className: 'badge bad' }, kindLabel(error.kind)),
      el('span', { className: 'error-message' }, error.message),
      error.count > 1 && el('span', { className: 'error-count' }, `${plural(error.count, 'time')} in all`)),
    error.stacks.map(({ caption, stack }, position) => el(
      'details',
      { className: 'stack-block', open: open && position === 0 },
      el('summary', {}, `${caption} (${plural(stack.length, 'frame')})`),
      frames.renderStack(stack),
    )),
  );
}

function renderErrors(errors, frames) {
  const list = el('div', { className: 'error-list' });
  const more = el('button', { className: 'show-more', type: 'button' });
  const showUpTo = (count) => {
    for (let i = list.childElementCount; i < Math.min(count, errors.length); i++)
      list.append(renderErrorCard(errors[i], frames, i < ERRORS_SHOWN_OPEN));
    const hidden = errors.length - list.childElementCount;
    more.hidden = hidden === 0;
    more.textContent = `Show ${formatCount(Math.min(hidden, ERROR_PAGE_SIZE))} more (${formatCount(hidden)} not shown)`;
  };
  more.addEventListener('click', () => showUpTo(list.childElementCount + ERROR_PAGE_SIZE));
  showUpTo(ERROR_PAGE_SIZE);
  return [el('h3', {}, `Heap errors (${formatCount(errors.length)})`), list, more];
}

function renderProcessMeta(process) {
  const { summary } = process;
  const facts = [
    `parent ${process.ppid}`,
    processStatus(process),
    process.duration_ms !== undefined && `ran ${(process.duration_ms / 1000).toFixed(3)} s`,
    `${formatCount(summary.total_allocations)} allocations, peak ${formatBytes(summary.peak_bytes)} live`,
    summary.suppressed_bytes > 0 && `${formatCount(summary.suppressed_bytes)} bytes suppressed`,
    process.trace && `trace ${basename(process.trace)}`,
  ].filter(Boolean);
  return el('div', { className: 'process-meta' }, facts.map((fact) => el('span', {}, fact)));
}

function renderProcess(process, frames) {
  const { summary } = process;
  const section = el(
    'section',
    { className: 'card process', id: processAnchor(process), dataset: { pid: String(process.pid) } },
    el('div', { className: 'process-head' },
      el('h2', {}, `Process ${process.pid}`),
      el('code', { className: 'process-argv', title: process.exe }, commandLine(process)),
      process.forked_child && el('span', { className: 'badge' }, 'forked child'),
      process.snapshot && el('span', {
        className: 'badge',
        title: process.leaks_gate ? 'its leaks count for the CI gate' : 'its leaks do not count for the CI gate',
      }, snapshotLabel(process)),
      process.crashed && el('span', { className: 'badge bad' }, 'crashed')),
    renderProcessMeta(process),
  );
  if (!process.leaks.length && !process.errors.length) {
    section.append(el('p', { className: 'empty' }, process.leaks_unknown
      ? 'No heap errors; its leaks are unknown: the blocks live at its crash could not be listed.'
      : 'No leaks and no heap errors in this process.'));
  }
  if (process.errors.length) section.append(...renderErrors(process.errors, frames));
  if (process.leaks.length) {
    section.append(
      el('h3', {}, `Leak sites (${formatCount(process.leaks.length)}): ${formatCount(summary.leaked_bytes)} bytes in ${plural(summary.leaked_blocks, 'block')}`),
      new LeakTable(process.leaks, frames).element,
      el('h3', {}, 'Leaked bytes by call path'),
      el('p', { className: 'flame-help' }, 'Outermost caller on top; width is leaked bytes. Click a frame to zoom in, an upper bar to zoom out.'),
      new FlameGraph(process.flame).element,
    );
  }
  if (process.notes.length) {
    section.append(el('h3', {}, 'Notes'), el('ul', { className: 'notes' }, process.notes.map((note) => el('li', {}, note))));
  }
  return section;
}

function renderSuppressions(suppressions) {
  const head = el('tr', {}, el('th', {}, 'Suppression'), el('th', {}, 'From'),
    ['Bytes hidden', 'Blocks hidden', 'Errors hidden'].map((label) => el('th', { className: 'num' }, label)));
  const rows = suppressions.map((use) => el(
    'tr',
    { className: 'suppression-row' },
    el('td', {}, el('code', {}, use.name)),
    el('td', {}, use.source),
    [use.bytes, use.blocks, use.errors].map((value) => el('td', { className: 'num' }, formatCount(value))),
  ));
  return el('section', { className: 'card suppressions' }, el('h2', {}, `Suppressions used (${suppressions.length})`),
    el('table', {}, el('thead', {}, head), el('tbody', {}, rows)));
}

function main() {
  const data = JSON.parse(document.getElementById('nantrack-data').textContent);
  const frames = new FrameTable(data);
  const { processes } = data;
  const total = totals(processes);
  const page = document.getElementById('report');
  page.replaceChildren();
  appendChildren(page, [
    renderVerdict(total, processes.length),
    renderTiles(total, processes.length),
    processes.length > 1 && renderProcessList(processes),
    processes.filter((process) => hasSection(process, processes.length)).map((process) => renderProcess(process, frames)),
    data.suppressions.length > 0 && renderSuppressions(data.suppressions),
  ]);
}

main();
