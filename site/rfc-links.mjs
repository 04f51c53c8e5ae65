// A mystmd plugin: RFC references in the course's prose become links to the RFC Editor.
//
// The notebooks cite the specifications in a few fixed forms, and stay plain text in
// JupyterLab; the site links them at build time, so no notebook is edited for it:
//   "RFC 9113 §6.9"         -> https://www.rfc-editor.org/rfc/rfc9113#section-6.9
//   "RFC 7541 Appendix A"   -> https://www.rfc-editor.org/rfc/rfc7541#appendix-A
//   "section 6.5 of RFC 9113", "RFC 9113" alone, and a bare "§8.1": the RFC named last in
//   the same paragraph, else RFC 9113 (the contents page: "§6.5" means section 6.5 of
//   RFC 9113).
// Text inside links, inline code and code cells is left alone.

const RFC_EDITOR = 'https://www.rfc-editor.org/rfc/rfc';
const DEFAULT_RFC = '9113';

// One alternative per form; the named groups say which one matched.
const REFERENCE = new RegExp(
  [
    /(?<secOf>[Ss]ection (?<secOfNum>\d+(?:\.\d+)*) of RFC (?<secOfRfc>\d{3,5}))/.source,
    /(?<rfc>RFC (?<rfcNum>\d{3,5})(?:,? (?:§ ?(?<rfcSec>\d+(?:\.\d+)*)|Appendix (?<rfcApp>[A-Z](?:\.\d+)*)))?)/
      .source,
    /(?<bare>§ ?(?<bareSec>\d+(?:\.\d+)*))/.source,
  ].join('|'),
  'g',
);

const SKIP = new Set(['link', 'crossReference', 'inlineCode', 'code', 'math', 'inlineMath']);
// Each of these starts afresh with RFC 9113 as the RFC a bare "§" refers to.
const CONTEXT = new Set(['paragraph', 'heading', 'tableCell', 'listItem', 'admonition']);

function rfcUrl(rfc, section, appendix) {
  if (section) return `${RFC_EDITOR}${rfc}#section-${section}`;
  if (appendix) return `${RFC_EDITOR}${rfc}#appendix-${appendix}`;
  return `${RFC_EDITOR}${rfc}`;
}

/** Split one text value into text and link nodes; `state.rfc` is the RFC named last. */
export function linkText(value, state) {
  const parts = [];
  let last = 0;
  for (const match of value.matchAll(REFERENCE)) {
    const g = match.groups;
    let url;
    if (g.secOf) {
      state.rfc = g.secOfRfc;
      url = rfcUrl(g.secOfRfc, g.secOfNum);
    } else if (g.rfc) {
      state.rfc = g.rfcNum;
      url = rfcUrl(g.rfcNum, g.rfcSec, g.rfcApp);
    } else {
      url = rfcUrl(state.rfc, g.bareSec);
    }
    if (match.index > last) parts.push({ type: 'text', value: value.slice(last, match.index) });
    parts.push({ type: 'link', url, children: [{ type: 'text', value: match[0] }] });
    last = match.index + match[0].length;
  }
  if (last === 0) return null;
  if (last < value.length) parts.push({ type: 'text', value: value.slice(last) });
  return parts;
}

function walk(node, state) {
  if (SKIP.has(node.type) || !Array.isArray(node.children)) return;
  const inner = CONTEXT.has(node.type) ? { rfc: DEFAULT_RFC } : state;
  const children = [];
  for (const child of node.children) {
    const parts = child.type === 'text' ? linkText(child.value, inner) : null;
    if (parts) {
      children.push(...parts);
    } else {
      walk(child, inner);
      children.push(child);
    }
  }
  node.children = children;
}

const rfcLinks = {
  name: 'rfc-links',
  doc: 'RFC references (RFC 9113 §6.9, RFC 7541 Appendix A, a bare §8.1) become links.',
  stage: 'document',
  plugin: () => (tree) => walk(tree, { rfc: DEFAULT_RFC }),
};

export default {
  name: 'gethy RFC links',
  transforms: [rfcLinks],
};
