// Tablet ergonomics, measured in the page (tests/e2e/test_tablet_ui.py): every visible control's
// height, every visible text's size, and each text's contrast against the first opaque background
// behind it (WCAG 2 relative luminance). Evaluated with page.evaluate().
() => {
  const lum = (c) => {
    const [r, g, b] = c.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const rgba = (s) => (s.match(/[\d.]+/g) || []).map(Number);
  const bg = (e) => {
    for (; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || c[3] > 0.9) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const visible = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'; };
  const small = [], tiny = [], faint = [];
  document.querySelectorAll('button, a[href], input, select, textarea, summary').forEach((e) => {
    if (!visible(e)) return;
    // A checkbox is tapped through its label; the camera input fills its label button.
    const target = (e.type === 'checkbox' || e.type === 'file') && e.closest('label') || e;
    const h = target.getBoundingClientRect().height;
    if (h < 44) small.push([e.tagName, (e.textContent || e.name || '').trim().slice(0, 30), Math.round(h)]);
  });
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const e = n.parentElement;
    if (!n.textContent.trim() || !e || !visible(e) || e.closest('svg, script, dialog:not([open])')) continue;
    const cs = getComputedStyle(e);
    if (parseFloat(cs.fontSize) < 16) tiny.push([n.textContent.trim().slice(0, 30), cs.fontSize]);
    const fg = rgba(cs.color), back = bg(e);
    const a = lum(fg.slice(0, 3)), b = lum(back);
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const large = parseFloat(cs.fontSize) >= 24 || (parseFloat(cs.fontSize) >= 18.66 && Number(cs.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) faint.push([n.textContent.trim().slice(0, 30), ratio.toFixed(2)]);
  }
  return {width: document.documentElement.scrollWidth, small, tiny, faint};
}
