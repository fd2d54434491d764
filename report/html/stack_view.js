// Frames and stacks. The report data interns frames into one table and module
// paths into another (report/html_data.h); stacks are arrays of frame indexes.

class FrameTable {
  constructor(data) {
    this.frames = data.frames;
    this.modules = data.modules;
  }

  get(index) {
    return this.frames[index];
  }

  modulePath(frame) {
    return frame.mod === undefined ? '' : this.modules[frame.mod];
  }

  // "libc.so.6+0x2a1c9", as the text report prints it.
  moduleLabel(frame) {
    return frame.mod === undefined ? '' : `${basename(this.modulePath(frame))}+${frame.off}`;
  }

  // The function, or where the pc lies when its function is unknown.
  functionName(frame) {
    return frame.fn || this.moduleLabel(frame) || frame.addr;
  }

  // "src/buf.cpp:12"; short=true keeps only the file name.
  location(frame, short) {
    if (!frame.file) return '';
    const file = short ? basename(frame.file) : frame.file;
    return frame.line ? `${file}:${frame.line}` : file;
  }

  // Everything a filter may match in a stack, lower-cased.
  searchText(stack) {
    return stack
      .map((index) => {
        const frame = this.get(index);
        return `${frame.fn || ''} ${frame.file || ''} ${this.modulePath(frame)}`;
      })
      .join('\n')
      .toLowerCase();
  }

  renderFrame(frame, position) {
    const moduleLabel = this.moduleLabel(frame);
    return el(
      'li',
      { className: `frame${frame.sys ? ' system' : ''}${frame.inl ? ' inlined' : ''}` },
      el('span', { className: 'frame-no' }, `#${position}`),
      el('span', { className: 'frame-fn' }, this.functionName(frame)),
      frame.file && el('span', { className: 'frame-loc', title: frame.file }, this.location(frame)),
      moduleLabel && el('span', { className: 'frame-mod', title: `${this.modulePath(frame)} at ${frame.addr}` }, `(${moduleLabel})`),
      frame.inl && el('span', { className: 'badge', title: 'inlined into the frame below' }, 'inlined'),
    );
  }

  // Innermost frame first, numbered like the text report.
  renderStack(stack) {
    if (stack.length === 0) return el('p', { className: 'empty' }, 'no stack recorded');
    return el('ol', { className: 'stack' }, stack.map((index, position) => this.renderFrame(this.get(index), position)));
  }
}
