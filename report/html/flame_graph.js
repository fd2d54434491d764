// An icicle graph of leaked bytes by call path: the outermost caller on top,
// each frame as wide as the bytes leaked below it. Clicking a frame zooms in
// on it (its ancestors stay as full-width bars above; clicking one zooms out).
// The tree arrives already bounded (report/leak_flame_tree.h); frames narrower
// than FLAME_MIN_PERCENT of the view are not drawn at all.

const FLAME_ROW_HEIGHT = 22;
const FLAME_MIN_PERCENT = 0.1;

// A stable warm colour per function name, so a function looks the same
// wherever it appears; light enough for dark text.
function flameColor(name) {
  let hash = 0;
  for (let i = 0; i < name.length; i++) hash = (hash * 31 + name.charCodeAt(i)) | 0;
  const hue = 8 + (Math.abs(hash) % 44);
  const lightness = 72 + (Math.abs(hash >> 8) % 12);
  return `hsl(${hue}, 90%, ${lightness}%)`;
}

class FlameGraph {
  constructor(root) {
    this.root = root;
    this.element = el('div', { className: 'flame', role: 'group', 'aria-label': 'Leaked bytes by call path' });
    this.zoom([root]);
  }

  // path: the nodes from the root down to the one drawn full width.
  zoom(path) {
    const nodes = [];
    path.forEach((node, depth) => nodes.push(this.renderNode(path.slice(0, depth + 1), depth, 0, 100, depth < path.length - 1)));
    const depth = this.layoutChildren(path, path.length, 0, 100, nodes);
    this.element.replaceChildren(...nodes);
    this.element.style.height = `${depth * FLAME_ROW_HEIGHT + 2}px`;
  }

  // Draws the children of the last node of `path` side by side within
  // [left, left + width) percent, and their descendants below; returns the
  // number of rows used.
  layoutChildren(path, depth, left, width, nodes) {
    const parent = path[path.length - 1];
    let rows = depth;
    let x = left;
    for (const child of parent.children || []) {
      const childWidth = (width * child.bytes) / parent.bytes;
      if (childWidth >= FLAME_MIN_PERCENT) {
        const childPath = [...path, child];
        nodes.push(this.renderNode(childPath, depth, x, childWidth, false));
        rows = Math.max(rows, this.layoutChildren(childPath, depth + 1, x, childWidth, nodes));
      }
      x += childWidth;
    }
    return Math.max(rows, depth);
  }

  renderNode(path, depth, left, width, isAncestor) {
    const node = path[path.length - 1];
    const share = this.root.bytes ? ((100 * node.bytes) / this.root.bytes).toFixed(1) : '0';
    const classes = ['flame-node', node.merged ? 'other' : '', isAncestor ? 'ancestor' : ''].filter(Boolean);
    const box = el(
      'div',
      {
        className: classes.join(' '),
        title: `${node.name}\n${formatCount(node.bytes)} bytes (${share}% of leaked bytes) in ${plural(node.blocks, 'block')}`,
      },
      node.name,
    );
    Object.assign(box.style, {
      top: `${depth * FLAME_ROW_HEIGHT}px`,
      left: `${left}%`,
      width: `${width}%`,
      background: node.merged || isAncestor ? '' : flameColor(node.name),
    });
    if (!node.merged) box.addEventListener('click', () => this.zoom(path));
    return box;
  }
}
