// The table of leak sites: sortable by clicking a column header, filterable,
// each row expanding to its allocation stack. Rows are drawn a page at a time
// ("show more"), so a report with 10,000 leak sites stays quick to open.

const LEAK_PAGE_SIZE = 100;
const LEAK_KIND_ORDER = { definite: 0, indirect: 1, possible: 2, reachable: 3 };

// How each sortable column orders rows; numbers sort biggest first on the
// first click, text A to Z.
const LEAK_COLUMNS = [
  { key: 'kind', label: 'Kind', value: (row) => LEAK_KIND_ORDER[row.leak.kind] ?? 9 },
  { key: 'bytes', label: 'Bytes', numeric: true, value: (row) => row.leak.bytes },
  { key: 'blocks', label: 'Blocks', numeric: true, value: (row) => row.leak.blocks },
  { key: 'function', label: 'Top function', value: (row) => row.topFunction,
    title: 'The innermost frame of your code: system headers and libraries under /usr/ are skipped' },
  { key: 'location', label: 'Location', value: (row) => row.location },
];

function leakKindBadge(kind) {
  const tone = kind === 'definite' ? 'bad' : kind === 'reachable' ? '' : 'warn';
  return el('span', { className: `badge ${tone}` }, kind);
}

class LeakTable {
  constructor(leaks, frames) {
    this.frames = frames;
    this.rows = leaks.map((leak, index) => {
      const top = leak.stack.length ? frames.get(leak.stack[leak.top]) : null;
      return {
        leak,
        index,
        topFunction: top ? frames.functionName(top) : '(no stack)',
        location: top ? frames.location(top, true) : '',
        file: top ? top.file || '' : '',
      };
    });
    this.sortKey = 'bytes';
    this.descending = true;
    this.filter = '';
    this.shown = LEAK_PAGE_SIZE;
    this.expanded = new Set(leaks.length ? [0] : []);  // the biggest site starts open
    this.element = this.build();
    this.render();
  }

  build() {
    this.countText = el('span', { className: 'row-count' });
    const filter = el('input', {
      className: 'filter',
      type: 'search',
      placeholder: 'Filter by function, file or module',
      'aria-label': 'Filter leak sites',
    });
    filter.addEventListener('input', () => {
      this.filter = filter.value.trim().toLowerCase();
      this.shown = LEAK_PAGE_SIZE;
      this.render();
    });
    this.headers = LEAK_COLUMNS.map((column) => this.buildHeader(column));
    this.body = el('tbody');
    this.moreButton = el('button', { className: 'show-more', type: 'button' });
    this.moreButton.addEventListener('click', () => {
      this.shown += LEAK_PAGE_SIZE;
      this.render();
    });
    const head = el('thead', {}, el('tr', {}, el('th', { className: 'col-toggle' }), this.headers, el('th', { className: 'col-alloc' }, 'Allocated by')));
    return el(
      'div',
      { className: 'leak-sites' },
      el('div', { className: 'table-tools' }, filter, this.countText),
      el('table', { className: 'leak-table' }, head, this.body),
      this.moreButton,
    );
  }

  buildHeader(column) {
    const button = el('button', { className: 'sort-button', type: 'button', title: column.title }, column.label);
    button.addEventListener('click', () => this.sortBy(column));
    return el('th', { className: `col-${column.key}${column.numeric ? ' num' : ''}`, dataset: { sortKey: column.key } }, button);
  }

  sortBy(column) {
    if (this.sortKey === column.key) this.descending = !this.descending;
    else this.descending = Boolean(column.numeric);
    this.sortKey = column.key;
    this.render();
  }

  matching() {
    if (!this.filter) return this.rows;
    return this.rows.filter((row) => {
      row.searchText ??= this.frames.searchText(row.leak.stack);
      return row.searchText.includes(this.filter);
    });
  }

  sorted(rows) {
    const column = LEAK_COLUMNS.find((c) => c.key === this.sortKey);
    const direction = this.descending ? -1 : 1;
    // Ties keep the report's order (biggest first), so sorting is stable.
    return [...rows].sort((a, b) => {
      const x = column.value(a);
      const y = column.value(b);
      const order = typeof x === 'string' ? x.localeCompare(y) : x - y;
      return order * direction || a.index - b.index;
    });
  }

  render() {
    const rows = this.sorted(this.matching());
    const visible = rows.slice(0, this.shown);
    this.body.replaceChildren(...visible.flatMap((row) => this.renderRow(row)));
    for (const header of this.headers) {
      const sorted = header.dataset.sortKey === this.sortKey;
      header.setAttribute('aria-sort', sorted ? (this.descending ? 'descending' : 'ascending') : 'none');
    }
    const of = rows.length === this.rows.length ? '' : ` matching, of ${formatCount(this.rows.length)}`;
    this.countText.textContent = `Showing ${formatCount(visible.length)} of ${plural(rows.length, 'leak site')}${of}`;
    const hidden = rows.length - visible.length;
    this.moreButton.hidden = hidden === 0;
    this.moreButton.textContent = `Show ${formatCount(Math.min(hidden, LEAK_PAGE_SIZE))} more (${formatCount(hidden)} not shown)`;
  }

  // The row, followed by its stack when expanded.
  renderRow(row) {
    const { leak } = row;
    const expanded = this.expanded.has(row.index);
    const toggle = el('td', { className: 'toggle' }, expanded ? '▾' : '▸');
    const tr = el(
      'tr',
      { className: `leak-row${expanded ? ' expanded' : ''}`, tabIndex: 0, 'aria-expanded': String(expanded) },
      toggle,
      el('td', { className: 'col-kind' }, leakKindBadge(leak.kind)),
      el('td', { className: 'num col-bytes', title: formatBytes(leak.bytes) }, formatCount(leak.bytes)),
      el('td', { className: 'num col-blocks' }, formatCount(leak.blocks)),
      el('td', { className: 'top-fn' }, row.topFunction),
      el('td', { className: 'location', title: row.file }, row.location),
      el('td', { className: 'alloc' }, leak.alloc.map((name) => el('span', { className: 'badge' }, name))),
    );
    const toggleStack = () => {
      if (this.expanded.delete(row.index)) tr.nextElementSibling.remove();
      else {
        this.expanded.add(row.index);
        tr.after(this.renderStackRow(row));
      }
      const open = this.expanded.has(row.index);
      tr.classList.toggle('expanded', open);
      tr.setAttribute('aria-expanded', String(open));
      toggle.textContent = open ? '▾' : '▸';
    };
    tr.addEventListener('click', toggleStack);
    tr.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter' && event.key !== ' ') return;
      event.preventDefault();
      toggleStack();
    });
    return expanded ? [tr, this.renderStackRow(row)] : [tr];
  }

  renderStackRow(row) {
    return el('tr', { className: 'stack-row' }, el('td', { colSpan: 7 }, this.frames.renderStack(row.leak.stack)));
  }
}
