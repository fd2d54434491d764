// Small helpers shared by the report's views: building DOM nodes and
// formatting numbers. Text from traces only ever becomes a text node or a
// property value here, never markup: that is what keeps hostile function
// names and paths inert.

// el('td', {className: 'num', title: 'x'}, 'text', childNode, [more, children], ...)
// Children may be nested arrays; null, undefined and false are skipped.
// Properties are assigned as DOM properties, except "dataset" (an object of
// data-* values) and names containing a dash (ARIA and other attributes).
function el(tag, properties, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(properties || {})) {
    if (value === undefined || value === null) continue;
    if (name === 'dataset') Object.assign(node.dataset, value);
    else if (name.includes('-')) node.setAttribute(name, value);
    else node[name] = value;
  }
  appendChildren(node, children);
  return node;
}

function appendChildren(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const numberFormat = new Intl.NumberFormat('en-US');

// 3072 -> "3,072"
function formatCount(value) {
  return numberFormat.format(value);
}

// 3072 -> "3.0 KiB"; below 1 KiB, "512 B".
function formatBytes(bytes) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

// (3, 'block') -> "3 blocks"
function plural(count, singular, pluralForm) {
  return `${formatCount(count)} ${count === 1 ? singular : pluralForm || singular + 's'}`;
}

function basename(path) {
  return path.slice(path.lastIndexOf('/') + 1);
}

// An argv word as a shell would need it, so the command line can be pasted.
function shellQuote(word) {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

// "double_free" -> "double free"
function kindLabel(kind) {
  return kind.replaceAll('_', ' ');
}
