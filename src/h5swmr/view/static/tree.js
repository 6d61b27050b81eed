// The file's tree (groups and datasets with shape and dtype) and the details of one path.
import { fmt } from './plot.js';

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const shapeText = (s) => (s ? `(${s.map((d) => (d === null ? 'None' : d)).join(', ')}${s.length === 1 ? ',' : ''})` : '');

function metaText(node) {
  if (node.kind === 'dataset') return `${shapeText(node.shape)} ${node.dtype}`;
  return node.kind === 'group' ? '' : node.kind;
}

/** Update one row's shape in place (between full redraws of the tree). */
export function updateRow(container, node) {
  for (const row of container.children) {
    if (row.dataset.path === node.path) row.querySelector('.meta').textContent = metaText(node);
  }
}

/** Draw the tree; ``onSelect(path)`` when a dataset is clicked. */
export function renderTree(container, nodes, selected, defaultPath, onSelect) {
  const scroll = container.scrollTop;
  container.textContent = '';
  for (const node of nodes) {
    const depth = node.path === '/' ? 0 : node.path.split('/').length - 1;
    const name = node.path === '/' ? '/' : node.path.slice(node.path.lastIndexOf('/') + 1);
    const row = document.createElement('div');
    row.className = node.kind === 'dataset' ? 'dataset' : node.kind === 'group' ? 'group' : 'link';
    if (node.path === selected) row.classList.add('selected');
    row.dataset.path = node.path;
    row.style.paddingLeft = `${4 + depth * 12}px`;
    const icon = node.kind === 'dataset' ? '▦' : node.kind === 'group' ? '▸' : '↪';
    row.innerHTML = `${icon} <span class="${node.path === defaultPath ? 'default' : ''}">${esc(name)}</span>`
      + `<span class="meta">${esc(metaText(node))}</span>`;
    row.title = node.path + (node.path === defaultPath ? ' (NeXus default plot)' : '');
    if (node.kind === 'dataset') row.addEventListener('click', () => onSelect(node.path));
    container.appendChild(row);
  }
  container.scrollTop = scroll;
}

/** Shape, dtype, chunks, filters, ratio and attributes of one path. */
export function renderDetails(container, node) {
  if (!node) { container.textContent = 'nothing selected'; return; }
  const rows = [['path', node.path], ['kind', node.virtual ? 'virtual dataset' : node.kind]];
  if (node.kind === 'dataset') {
    rows.push(['shape', shapeText(node.shape)], ['maxshape', shapeText(node.maxshape)], ['dtype', node.dtype]);
    rows.push(['chunks', node.chunks ? shapeText(node.chunks) : node.virtual ? '–' : 'contiguous']);
    rows.push(['filters', node.filters || 'none']);
    rows.push(['ratio', node.ratio ? `${fmt(node.ratio)} : 1` : '–']);
  }
  if (node.problem) rows.push(['problem', node.problem]);
  for (const [k, v] of Object.entries(node.attrs || {})) rows.push([`@${k}`, typeof v === 'string' ? v : JSON.stringify(v)]);
  container.innerHTML = `<table>${rows.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('')}</table>`;
}
